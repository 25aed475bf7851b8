package jobsql

import "encoding/json"

// jsonStrings encodes labels as a JSON array; strings always marshal.
func jsonStrings(ss []string) []byte {
	b, _ := json.Marshal(ss)
	return b
}
