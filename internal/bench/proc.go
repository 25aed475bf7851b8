package bench

import (
	"bytes"
	"os"
	"strconv"
	"sync"
	"time"
)

// ProcessUse is what this process used during a drain, read from /proc on
// Linux. Every field is zero where /proc is not available.
type ProcessUse struct {
	// CPUMicrosPerJob is the process's user and system CPU time per job:
	// goodjob's own cost, apart from PostgreSQL's.
	CPUMicrosPerJob float64 `json:"cpu_us_per_job"`
	// RSSStartMB, RSSMaxMB and RSSEndMB are the resident set sampled every
	// rssEvery: when the drain starts, its largest, and when Stop returned.
	RSSStartMB float64 `json:"rss_start_mb"`
	RSSMaxMB   float64 `json:"rss_max_mb"`
	RSSEndMB   float64 `json:"rss_end_mb"`
	// PeakRSSMB is the kernel's high-water mark (VmHWM) for the whole
	// process lifetime, set-up included.
	PeakRSSMB float64 `json:"peak_rss_mb"`
	// RSSSamples are the samples in MB, for plots of flatness.
	RSSSamples []float64 `json:"rss_samples_mb,omitempty"`
}

// rssEvery is how often a procMeter samples the resident set.
const rssEvery = time.Second

// procMeter samples this process's CPU time and resident set.
type procMeter struct {
	cpu0 time.Duration
	stop chan struct{}
	done chan struct{}

	mu      sync.Mutex
	samples []float64
}

// startProcMeter starts sampling; call finish when the measured part ends.
func startProcMeter() *procMeter {
	m := &procMeter{cpu0: processCPU(), stop: make(chan struct{}), done: make(chan struct{})}
	m.sample()
	go func() {
		defer close(m.done)
		t := time.NewTicker(rssEvery)
		defer t.Stop()
		for {
			select {
			case <-m.stop:
				return
			case <-t.C:
				m.sample()
			}
		}
	}()
	return m
}

func (m *procMeter) sample() {
	rss, _ := procStatusMB("VmRSS:")
	if rss == 0 {
		return
	}
	m.mu.Lock()
	m.samples = append(m.samples, rss)
	m.mu.Unlock()
}

// finish stops sampling and returns the use for jobs jobs.
func (m *procMeter) finish(jobs int) ProcessUse {
	close(m.stop)
	<-m.done
	m.sample()
	var u ProcessUse
	if cpu := processCPU() - m.cpu0; cpu > 0 && jobs > 0 {
		u.CPUMicrosPerJob = float64(cpu.Microseconds()) / float64(jobs)
	}
	u.PeakRSSMB, _ = procStatusMB("VmHWM:")
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.samples) == 0 {
		return u
	}
	u.RSSSamples = m.samples
	u.RSSStartMB, u.RSSEndMB = m.samples[0], m.samples[len(m.samples)-1]
	for _, s := range m.samples {
		u.RSSMaxMB = max(u.RSSMaxMB, s)
	}
	return u
}

// procStatusMB reads one "kB" field of /proc/self/status, in MB.
func procStatusMB(field string) (float64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for line := range bytes.Lines(b) {
		rest, ok := bytes.CutPrefix(line, []byte(field))
		if !ok {
			continue
		}
		kb, err := strconv.ParseFloat(string(bytes.TrimSuffix(
			bytes.TrimSpace(rest), []byte(" kB"))), 64)
		if err != nil {
			return 0, false
		}
		return kb / 1024, true
	}
	return 0, false
}

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on Linux for
// every architecture Go supports.
const clockTicks = 100

// processCPU is the user plus system CPU time of this process so far, from
// /proc/self/stat; zero where that is not available.
func processCPU() time.Duration {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(ut+st) * time.Second / clockTicks
}
