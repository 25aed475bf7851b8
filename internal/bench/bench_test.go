package bench_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob/internal/bench"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func TestPercentiles(t *testing.T) {
	t.Parallel()
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		// Out of order, to show that Percentiles sorts.
		hundred[i] = time.Duration(100-i) * time.Millisecond
	}
	cases := []struct {
		name string
		in   []time.Duration
		want bench.Latency
	}{
		{"Empty", nil, bench.Latency{}},
		{"One", []time.Duration{1500 * time.Microsecond}, bench.Latency{1.5, 1.5, 1.5, 1.5}},
		{"Hundred", hundred, bench.Latency{P50: 50, P90: 90, P99: 99, Max: 100}},
		{"Outlier", []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond,
			time.Second}, bench.Latency{P50: 1, P90: 1000, P99: 1000, Max: 1000}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, bench.Percentiles(tc.in))
		})
	}
}

func TestPace(t *testing.T) {
	t.Parallel()

	t.Run("KeepsSchedule", func(t *testing.T) {
		t.Parallel()
		const jobs, rate = 60, 200 // 5ms apart
		calls := make([]atomic.Int64, jobs)
		at := make([]atomic.Int64, jobs)
		began := time.Now()
		err := bench.Pace(t.Context(), jobs, rate, 4, func(i int) error {
			calls[i].Add(1)
			at[i].Store(int64(time.Since(began)))
			return nil
		})
		require.NoError(t, err)
		for i := range jobs {
			require.EqualValues(t, 1, calls[i].Load(), "call %d", i)
			slot := time.Duration(i) * time.Second / rate
			require.GreaterOrEqual(t, time.Duration(at[i].Load()), slot, "call %d came early", i)
		}
	})

	t.Run("StopsAtError", func(t *testing.T) {
		t.Parallel()
		boom := errors.New("boom")
		var calls atomic.Int64
		err := bench.Pace(t.Context(), 100, 10_000, 1, func(i int) error {
			calls.Add(1)
			if i == 3 {
				return boom
			}
			return nil
		})
		require.ErrorIs(t, err, boom)
		require.EqualValues(t, 4, calls.Load())
	})

	t.Run("StopsAtCancel", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		var calls atomic.Int64
		err := bench.Pace(ctx, 1000, 100, 2, func(i int) error {
			if calls.Add(1) == 3 {
				cancel()
			}
			return nil
		})
		require.ErrorIs(t, err, context.Canceled)
		require.Less(t, calls.Load(), int64(10))
	})
}

func TestBacklog_ReportsProcessUse(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	res, err := bench.Backlog(t.Context(), db.Pool, bench.BacklogParams{Jobs: 2000, Workers: 20})
	require.NoError(t, err)
	require.Equal(t, 2000, res.Finished)
	u := res.Process
	require.Positive(t, u.CPUMicrosPerJob)
	require.Positive(t, u.RSSStartMB)
	require.GreaterOrEqual(t, u.RSSMaxMB, u.RSSStartMB)
	require.GreaterOrEqual(t, u.RSSMaxMB, u.RSSEndMB)
	require.GreaterOrEqual(t, u.PeakRSSMB, u.RSSMaxMB)
	require.NotEmpty(t, u.RSSSamples)
}
