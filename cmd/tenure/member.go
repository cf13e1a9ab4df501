package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/podagent/api"
)

// memberFlags are the flags of restart and reinit.
type memberFlags struct {
	tokenFile string
	caFile    string
	force     bool
	pending   bool
	role      string
	timeout   time.Duration
}

// setupMemberCommand builds restart or reinit: both call each named
// member's REST API (api_url from its heartbeat), since only the member
// can act on its own postgres.
func setupMemberCommand(name string) func(c *cli, fs *flag.FlagSet) func(context.Context, []string) error {
	return func(c *cli, fs *flag.FlagSet) func(context.Context, []string) error {
		var f memberFlags
		fs.StringVar(&f.tokenFile, "token-file", "", "file holding the agents' REST API bearer token (else $TENURE_API_TOKEN, $TENURE_API_TOKEN_FILE, ~/.config/tenure/token)")
		fs.StringVar(&f.caFile, "ca-file", "", "CA (PEM) to verify agents serving HTTPS (else $TENURE_API_CA_FILE, else the system roots)")
		fs.DurationVar(&f.timeout, "timeout", 2*time.Minute, "how long to wait for each member's answer")
		if name == "restart" {
			fs.BoolVar(&f.force, "force", false, "do not ask for confirmation")
			fs.BoolVar(&f.pending, "pending", false, "restart only members with a pending restart")
			fs.StringVar(&f.role, "role", "", "restart only members running as this role (primary or replica)")
		} else {
			fs.BoolVar(&f.force, "force", false, "do not ask for confirmation, and cancel a task the member is running")
		}
		return func(ctx context.Context, args []string) error {
			members, err := c.clusterArg(args)
			if err != nil {
				return err
			}
			if len(members) == 0 {
				return usagef("%s: name at least one member", name)
			}
			switch leaderelect.Role(f.role) {
			case leaderelect.RoleNone, leaderelect.RolePrimary, leaderelect.RoleReplica:
			default:
				return usagef("--role %q: want primary or replica", f.role)
			}
			return c.memberCommand(ctx, name, members, f)
		}
	}
}

func (c *cli) memberCommand(ctx context.Context, name string, members []string, f memberFlags) error {
	token, err := c.apiToken(f.tokenFile)
	if err != nil {
		return err
	}
	hc, err := c.apiClient(f.caFile)
	if err != nil {
		return err
	}
	st, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	v := st.View()
	for _, m := range members {
		if v.Members[m].APIURL == "" {
			return fmt.Errorf("member %s: no heartbeat with an api_url in cluster %s", m, v.Cluster)
		}
	}
	verb := map[string]string{"restart": "restart", "reinit": "reinitialize"}[name]
	if err := c.confirm(f.force, fmt.Sprintf("Are you sure you want to %s members %s?", verb, strings.Join(members, ", "))); err != nil {
		return err
	}
	failed := 0
	for _, m := range members {
		msg, err := c.callMember(ctx, hc, name, v.Members[m].APIURL, token, f)
		if err != nil {
			failed++
			fmt.Fprintf(c.out, "Failed: %s for member %s: %v\n", name, m, err)
			continue
		}
		fmt.Fprintf(c.out, "Success: %s on member %s (%s)\n", name, m, msg)
	}
	if failed > 0 {
		return fmt.Errorf("%s failed on %d of %d members", name, failed, len(members))
	}
	return nil
}

func (c *cli) callMember(ctx context.Context, hc *http.Client, name, apiURL, token string, f memberFlags) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	cl := api.Client{HTTP: hc, BaseURL: apiURL, Token: token}
	var msg string
	var err error
	if name == "restart" {
		msg, err = cl.Restart(ctx, api.RestartRequest{PendingOnly: f.pending, Role: leaderelect.Role(f.role)})
	} else {
		msg, err = cl.Reinitialize(ctx, f.force)
	}
	var se *api.StatusError
	if errors.As(err, &se) && se.Code == http.StatusUnauthorized && token == "" {
		err = fmt.Errorf("%w (no API token found: %s)", err, tokenHint)
	}
	return msg, err
}
