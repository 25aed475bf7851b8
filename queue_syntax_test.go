package goodjob_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

// TestWork_EveryQueueSelectors checks the selectors GoodJob reads as every
// queue: an empty one before ":N", and a plain list that holds "*".
func TestWork_EveryQueueSelectors(t *testing.T) {
	t.Parallel()
	for _, queues := range []string{":1", "named,*:1", "named:1;:1"} {
		t.Run(queues, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			db := testdb.New(t)
			c := newClient(t, db.Pool, goodjob.Config{Queues: queues})
			started := make(chan noopArgs, 10)
			require.NoError(t, goodjob.Register(c, recorder(started)))
			for i, q := range []string{"named", "other", "default"} {
				_, err := c.Enqueue(ctx, noopArgs{N: i}, goodjob.Queue(q))
				require.NoError(t, err)
			}
			start(t, c)
			var got []int
			for range 3 {
				got = append(got, waitFor(t, started, 10*time.Second, "job").N)
			}
			require.ElementsMatch(t, []int{0, 1, 2}, got)
		})
	}
}

// TestNew_StarWithPrefix checks that New rejects "*" under "-" or "+",
// which GoodJob would read as every queue, against what the string says.
func TestNew_StarWithPrefix(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	for _, q := range []string{"-*", "-a,*", "+*", "+a,*:2", "a;-b,*"} {
		_, err := goodjob.New(db.Pool, goodjob.Config{Queues: q})
		require.ErrorIs(t, err, goodjob.ErrInvalidQueues, "queues %q", q)
		require.ErrorContains(t, err, "cannot take \"*\": GoodJob would run every queue", q)
	}
}
