package envflag_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob/internal/envflag"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestSet_Precedence(t *testing.T) {
	t.Parallel()
	s := envflag.New("x", env(map[string]string{
		"GOOD_JOB_QUEUES": "a:1", "GOOD_JOB_MAX_THREADS": "7", "GOOD_JOB_POLL_INTERVAL": "2.5",
	}))
	queues := s.String("queues", "GOOD_JOB_QUEUES", "*", "")
	threads := s.Int("max-threads", "GOOD_JOB_MAX_THREADS", 5, "")
	poll := s.Duration("poll-interval", "GOOD_JOB_POLL_INTERVAL", 10*time.Second, "")
	timeout := s.Duration("shutdown-timeout", "GOOD_JOB_SHUTDOWN_TIMEOUT", time.Second, "")
	verbose := s.Bool("verbose", "", false, "")
	require.NoError(t, s.Parse([]string{"--max-threads", "3", "--verbose"}))

	require.Equal(t, "a:1", *queues, "from the environment")
	require.Equal(t, 3, *threads, "the flag wins over the environment")
	require.Equal(t, 2500*time.Millisecond, *poll, "plain numbers are seconds")
	require.Equal(t, time.Second, *timeout, "the default without either")
	require.True(t, *verbose)
}

func TestSet_BadEnvironment(t *testing.T) {
	t.Parallel()
	s := envflag.New("x", env(map[string]string{"GOOD_JOB_MAX_THREADS": "lots"}))
	s.Int("max-threads", "GOOD_JOB_MAX_THREADS", 5, "")
	err := s.Parse(nil)
	require.ErrorContains(t, err, `environment variable GOOD_JOB_MAX_THREADS="lots"`)
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{
		"10": 10 * time.Second, "-1": -time.Second, "1m30s": 90 * time.Second,
	} {
		got, err := envflag.ParseDuration(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	_, err := envflag.ParseDuration("soon")
	require.ErrorContains(t, err, "not a duration")
}
