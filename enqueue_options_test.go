package goodjob

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNormalizeLabels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"Nil", nil, nil},
		{"OnlyBlank", []string{"", "  ", "\t\n"}, nil},
		{"StripDropDedupe", []string{" a ", "", "b", "a", "  "}, []string{"a", "b"}},
		{"FirstSeenOrder", []string{"z", "a", " z", "m"}, []string{"z", "a", "m"}},
		{"InnerSpaceKept", []string{" two words "}, []string{"two words"}},
		{"RubyStripSet", []string{"\v\fx\r\x00"}, []string{"x"}},
		{"UnicodeSpaceKept", []string{"\u00a0x"}, []string{"\u00a0x"}},
		{"FilterSyntaxKept", []string{`a,b`, `{c}`, `"d"`, `e\f`}, []string{`a,b`, `{c}`, `"d"`, `e\f`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := normalizeLabels(tt.in)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestNormalizeLabels_Invalid(t *testing.T) {
	t.Parallel()
	_, err := normalizeLabels([]string{"ok", "a\x00b"})
	require.ErrorContains(t, err, "NUL byte")
	_, err = normalizeLabels([]string{"\xffx"})
	require.ErrorContains(t, err, "not valid UTF-8")
}
