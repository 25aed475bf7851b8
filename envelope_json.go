package goodjob

import (
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"strconv"

	"github.com/google/uuid"
)

// appendJSON appends e as json.Marshal would write it, byte for byte, without
// reflection: EnqueueMany builds one envelope per job, and encoding/json was
// a fifth of its CPU time. Each of e.Arguments must be compact JSON as
// json.Marshal returns it; TestEnvelope_AppendJSON holds the two encoders
// together.
func (e *envelope) appendJSON(b []byte) []byte {
	b = append(b, `{"job_class":`...)
	b = appendJSONString(b, e.JobClass)
	b = append(b, `,"job_id":"`...)
	b = appendUUID(b, e.JobID)
	b = append(b, `","provider_job_id":`...)
	b = appendOptString(b, e.ProviderJobID)
	b = append(b, `,"queue_name":`...)
	b = appendJSONString(b, e.QueueName)
	b = append(b, `,"priority":`...)
	if e.Priority == nil {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendInt(b, int64(*e.Priority), 10)
	}
	b = append(b, `,"arguments":`...)
	if e.Arguments == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, a := range e.Arguments {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, a...)
		}
		b = append(b, ']')
	}
	b = append(b, `,"executions":`...)
	b = strconv.AppendInt(b, int64(e.Executions), 10)
	b = append(b, `,"exception_executions":`...)
	b = appendIntMap(b, e.ExceptionExecutions)
	b = append(b, `,"locale":`...)
	b = appendJSONString(b, e.Locale)
	b = append(b, `,"timezone":`...)
	b = appendJSONString(b, e.Timezone)
	b = append(b, `,"enqueued_at":`...)
	b = appendJSONString(b, e.EnqueuedAt)
	b = append(b, `,"scheduled_at":`...)
	b = appendOptString(b, e.ScheduledAt)
	if len(e.TraceContext) > 0 {
		b = append(b, `,"goodjob_trace_context":{`...)
		for i, k := range slices.Sorted(maps.Keys(e.TraceContext)) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, e.TraceContext[k])
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string. Strings of printable ASCII
// that encoding/json leaves alone are copied; anything else goes through
// json.Marshal, so escaping (HTML characters, control characters, invalid
// UTF-8) stays exactly as encoding/json does it.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' ||
			c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendOptString(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendJSONString(b, *s)
}

// appendUUID appends id in its canonical text form, as uuid.UUID's
// MarshalText writes it.
func appendUUID(b []byte, id uuid.UUID) []byte {
	var buf [36]byte
	hex.Encode(buf[0:8], id[0:4])
	hex.Encode(buf[9:13], id[4:6])
	hex.Encode(buf[14:18], id[6:8])
	hex.Encode(buf[19:23], id[8:10])
	hex.Encode(buf[24:], id[10:])
	buf[8], buf[13], buf[18], buf[23] = '-', '-', '-', '-'
	return append(b, buf[:]...)
}

// appendIntMap appends m with its keys sorted, as encoding/json writes a
// map; a nil map is null.
func appendIntMap(b []byte, m map[string]int) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	b = append(b, '{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(m[k]), 10)
	}
	return append(b, '}')
}

// envelopeSize is a first guess at an envelope's length, beyond its
// arguments, so that appendJSON rarely grows its buffer.
const envelopeSize = 320
