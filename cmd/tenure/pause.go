package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/tenure-pg/tenure/leaderelect"
)

var errAlready = errors.New("already")

// setupPause sets (pause) or clears (resume) Config.Paused. Members act on
// it at their next loop; the CLI only records it.
func setupPause(pause bool) func(c *cli, fs *flag.FlagSet) func(context.Context, []string) error {
	return func(c *cli, fs *flag.FlagSet) func(context.Context, []string) error {
		return func(ctx context.Context, args []string) error {
			st, err := c.openCluster(ctx, args, nil)
			if err != nil {
				return err
			}
			defer st.Close()
			word := map[bool]string{true: "paused", false: "resumed"}[pause]
			_, err = st.Update(ctx, func(s *leaderelect.State) error {
				if s.Config.Paused == pause {
					return errAlready
				}
				s.Config.Paused = pause
				return nil
			})
			switch {
			case errors.Is(err, errAlready) && pause:
				return errors.New("cluster is already paused")
			case errors.Is(err, errAlready):
				return errors.New("cluster is not paused")
			case err != nil:
				return fmt.Errorf("set maintenance mode: %w", err)
			}
			fmt.Fprintf(c.out, "Success: cluster management is %s\n", word)
			return nil
		}
	}
}
