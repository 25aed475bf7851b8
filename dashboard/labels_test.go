package dashboard_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/dashboard"
)

// TestPages_LabelFilter checks that the jobs page's label filter finds
// labels as Enqueue stores them: stripped, without blanks or repeats, and
// with characters that mean something in Postgres array syntax.
func TestPages_LabelFilter(t *testing.T) {
	t.Parallel()
	f := setup(t, dashboard.Config{AuthorizeFunc: allowAll})
	id := f.enqueue(mailArgs{To: "a@example.com"},
		goodjob.Labels(" a ", "", "b", "a", "  ", `x,{y}`))
	other := f.enqueue(mailArgs{To: "b@example.com"}, goodjob.Labels("c"))

	for _, label := range []string{"a", "b", `x,{y}`} {
		code, body := f.get("/jobs?label=" + url.QueryEscape(label))
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, body, id.String(), label)
		require.NotContains(t, body, other.String(), label)
	}
	code, body := f.get("/jobs?label=x")
	require.Equal(t, http.StatusOK, code)
	require.NotContains(t, body, id.String(), "a comma does not split the filter")
}
