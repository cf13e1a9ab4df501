package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, progName(os.Args[0]), os.Args[1:], os.Stdout, os.Stderr, defaultEnv())
	stop()
	os.Exit(code)
}

// progName is how usage names the tool: "kubectl tenure" when run as the
// kubectl-tenure plugin.
func progName(arg0 string) string {
	base := filepath.Base(arg0)
	if name, ok := strings.CutPrefix(base, "kubectl-"); ok {
		return "kubectl " + name
	}
	return base
}
