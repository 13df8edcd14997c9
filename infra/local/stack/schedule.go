package stack

import (
	"context"
	"fmt"
)

// wireSchedule wires a ScheduleV2 event of a function (issue: digest).
func (s *Stack) wireSchedule(ctx context.Context, fn *function, ev Event) error {
	return fmt.Errorf("ScheduleV2 events are not wired in the local stack yet")
}
