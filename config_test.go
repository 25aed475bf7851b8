package goodjob

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseQueues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []poolSpec
	}{
		{"", []poolSpec{{Size: 5}}},
		{"*", []poolSpec{{Size: 5}}},
		{"*:2", []poolSpec{{Size: 2}}},
		{"default", []poolSpec{{Size: 5, Queues: []string{"default"}}}},
		{"a,b:3", []poolSpec{{Size: 3, Queues: []string{"a", "b"}}}},
		{" a , b : 3 ", []poolSpec{{Size: 3, Queues: []string{"a", "b"}}}},
		{"a,a", []poolSpec{{Size: 5, Queues: []string{"a"}}}},
		{"-a,b:2", []poolSpec{{Size: 2, Queues: []string{"a", "b"}, Exclude: true}}},
		{"+a,b", []poolSpec{{Size: 5, Queues: []string{"a", "b"}, Ordered: true}}},
		{"critical:5;default,mailers:3;*", []poolSpec{
			{Size: 5, Queues: []string{"critical"}},
			{Size: 3, Queues: []string{"default", "mailers"}},
			{Size: 5},
		}},
		{"q.v1/x-y_z", []poolSpec{{Size: 5, Queues: []string{"q.v1/x-y_z"}}}},
		// GoodJob reads an empty selector and a plain list holding "*" as
		// every queue.
		{":3", []poolSpec{{Size: 3}}},
		{" : 2 ", []poolSpec{{Size: 2}}},
		{"a,*", []poolSpec{{Size: 5}}},
		{"*,a:4", []poolSpec{{Size: 4}}},
		{"*,*", []poolSpec{{Size: 5}}},
		{"a:1;:3", []poolSpec{{Size: 1, Queues: []string{"a"}}, {Size: 3}}},
		{"- a , b", []poolSpec{{Size: 5, Queues: []string{"a", "b"}, Exclude: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseQueues(tt.in, 5)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseQueues_Invalid(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, reason string }{
		{";", "pool 1 is empty"},
		{"a;;b", "pool 2 is empty"},
		{"a:0", "not a positive number"},
		{"a:-1", "not a positive number"},
		{"a:x", "not a positive number"},
		{"a:", "not a positive number"},
		{"a,,b", "queue name is empty"},
		{"-", "queue name is empty"},
		{"+", "queue name is empty"},
		{"a,,*", "queue name is empty"},
		{"a,", "queue name is empty"},
		{"a;", "pool 2 is empty"},
		{":", "not a positive number"},
		{"-*", `"-" cannot take "*": GoodJob would run every queue, excluding none`},
		{"-a,*", `"-" cannot take "*"`},
		{" - * :2", `"-" cannot take "*"`},
		{"+*", `"+" cannot take "*": GoodJob would run every queue, in no order`},
		{"+a,*", `"+" cannot take "*"`},
		{"a,-*", "contains one of"},
		{"a*", "contains one of"},
		{"a b", "white space"},
		{"--a", "starts with -"},
		{"+-a", "starts with -"},
		{strings.Repeat("q", MaxQueueNameLength+1), "over 128"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := parseQueues(tt.in, 5)
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrInvalidQueues), "%v", err)
			require.Contains(t, err.Error(), tt.reason)
			require.Contains(t, err.Error(), tt.in, "the error quotes the input")
		})
	}
}

// FuzzParseQueues checks that any input either parses into pools that print
// back to an equivalent string, or returns ErrInvalidQueues; it never
// panics.
func FuzzParseQueues(f *testing.F) {
	for _, s := range []string{"*", "a,b:3;*", "-a", "+a,b:2;c", "a:0", ";", "a b", ":3",
		"a,*", "-a,*", "+*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		specs, err := parseQueues(s, 5)
		if err != nil {
			if !errors.Is(err, ErrInvalidQueues) {
				t.Fatalf("parseQueues(%q): error %v does not wrap ErrInvalidQueues", s, err)
			}
			return
		}
		parts := make([]string, len(specs))
		for i, spec := range specs {
			if spec.Size < 1 {
				t.Fatalf("parseQueues(%q): pool %d has size %d", s, i, spec.Size)
			}
			for _, q := range spec.Queues {
				if err := validateQueueName(q); err != nil {
					t.Fatalf("parseQueues(%q): accepted queue %q: %v", s, q, err)
				}
			}
			parts[i] = spec.String()
		}
		again, err := parseQueues(strings.Join(parts, ";"), 5)
		if err != nil {
			t.Fatalf("parseQueues(%q) printed %q, which does not parse: %v",
				s, strings.Join(parts, ";"), err)
		}
		require.Equal(t, specs, again)
	})
}

func TestPoolMatches(t *testing.T) {
	t.Parallel()
	all := poolSpec{}
	only := poolSpec{Queues: []string{"a"}}
	except := poolSpec{Queues: []string{"a"}, Exclude: true}
	require.True(t, all.matches("x"))
	require.True(t, only.matches("a"))
	require.False(t, only.matches("b"))
	require.False(t, except.matches("a"))
	require.True(t, except.matches("b"))
}
