package goodjob_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/goodjob-go/goodjob"
)

// reportArgs is the job a cron entry enqueues.
type reportArgs struct {
	Region string `json:"region"`
}

func (reportArgs) Kind() string { return "DailyReportJob" }

// New checks every cron entry and names the bad one. A pool connects
// lazily, so this example needs no database.
func ExampleCronEntry() {
	pool, err := pgxpool.New(context.Background(), "postgres://127.0.0.1:5432/app")
	if err != nil {
		panic(err)
	}
	defer pool.Close()

	_, err = goodjob.New(pool, goodjob.Config{Cron: map[string]goodjob.CronEntry{
		"daily_report": {
			Cron:        "CRON_TZ=Europe/Paris 0 6 * * *",
			Args:        reportArgs{Region: "eu"},
			Description: "Daily sales report at 06:00 Paris time",
			Options:     []goodjob.EnqueueOption{goodjob.Queue("reports")},
		},
		"stale_orders": {
			Cron: "*/15 * * * * * *",
			Args: reportArgs{Region: "eu"},
		},
	}})
	fmt.Println(errors.Is(err, goodjob.ErrInvalidCron))
	fmt.Println(err)
	// Output:
	// true
	// goodjob: invalid cron config: Config.Cron["stale_orders"]: cron "*/15 * * * * * *": expected 5 to 6 fields, found 7: [*/15 * * * * * *]
}
