package goodjob

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestEnvelope_AppendJSON(t *testing.T) {
	t.Parallel()
	id := uuid.MustParse("01930e6b-2c4d-7a1b-9f00-aabbccddeeff")
	at := time.Date(2026, 12, 4, 8, 0, 0, 123456789, time.UTC)
	later := at.Add(time.Hour)
	cases := map[string]func(e *envelope){
		"Plain":     func(*envelope) {},
		"Scheduled": func(e *envelope) { *e = newEnvelope(id, "Mail", "q", 3, e.Arguments[0], at, later) },
		"Escapes": func(e *envelope) {
			e.JobClass, e.QueueName = `Quote"Back\slash<&>`, "tab\there\u2028é\xff"
		},
		"NilPriorityAndArgs": func(e *envelope) { e.Priority, e.Arguments = nil, nil },
		"NegativePriority":   func(e *envelope) { p := -7; e.Priority = &p },
		"Counters": func(e *envelope) {
			e.Executions = 4
			e.ExceptionExecutions = map[string]int{"[Timeout]": 2, "[Boom]": 1, "<x>": 3}
		},
		"NilCounters": func(e *envelope) { e.ExceptionExecutions = nil },
		"Trace": func(e *envelope) {
			e.TraceContext = map[string]string{"traceparent": "00-abc-def-01", "b": "<&>"}
		},
		"EmptyTrace":    func(e *envelope) { e.TraceContext = map[string]string{} },
		"ProviderJobID": func(e *envelope) { s := "p-1"; e.ProviderJobID = &s },
		"SeveralArgs": func(e *envelope) {
			e.Arguments = append(e.Arguments, json.RawMessage(`"\u003cb\u003e"`),
				json.RawMessage(`[1,{"a":null}]`))
		},
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			args, err := json.Marshal(map[string]any{"to": "a@b.c <x>", "n": 1.5})
			require.NoError(t, err)
			e := newEnvelope(id, "Mail", "default", 0, args, at, at)
			change(&e)
			want, err := json.Marshal(e)
			require.NoError(t, err)
			require.Equal(t, string(want), string(e.appendJSON(nil)))
		})
	}
}

func FuzzEnvelope_AppendJSON(f *testing.F) {
	f.Add("Mail", "default", 0, `{"to":"x"}`, "k", "v")
	f.Add("<K\"ind>", "q\x00\u2028", -3, `[1,2,"\u0026"]`, "\xff", "")
	f.Fuzz(func(t *testing.T, kind, queue string, prio int, args, key, value string) {
		var v any
		if json.Unmarshal([]byte(args), &v) != nil {
			return
		}
		raw, err := json.Marshal(v)
		require.NoError(t, err)
		at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
		e := newEnvelope(uuid.New(), kind, queue, prio, raw, at, at.Add(time.Second))
		e.ExceptionExecutions[key] = prio
		e.TraceContext = map[string]string{key: value}
		want, err := json.Marshal(e)
		require.NoError(t, err)
		require.Equal(t, string(want), string(e.appendJSON(nil)))
	})
}
