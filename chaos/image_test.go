package chaos

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tenure-pg/tenure/internal/testenv"
)

// postgresImage is the tenure/postgres:15 image to run: TENURE_POSTGRES_IMAGE,
// or the one images/build.sh tags for this tree. Under CI=true it is built
// here (seconds when it exists; a few minutes cold, debootstrap included).
func postgresImage(t testing.TB) string {
	t.Helper()
	if err := exec.Command("docker", "version").Run(); err != nil {
		testenv.Missing(t, "Docker Engine", "docker version failed ("+err.Error()+"): start dockerd")
	}
	if img := os.Getenv("TENURE_POSTGRES_IMAGE"); img != "" {
		return img
	}
	if os.Getenv("CI") == "true" {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		defer cancel()
		began := time.Now()
		cmd := exec.CommandContext(ctx, "bash", "../images/build.sh", "15")
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("images/build.sh 15: %v", err)
		}
		tag := lastLine(string(out))
		t.Logf("image %s ready in %v", tag, time.Since(began).Round(time.Second))
		return tag
	}
	out, err := exec.Command("bash", "../images/build.sh", "--tag", "15").Output()
	if err != nil {
		t.Fatalf("images/build.sh --tag 15: %v", err)
	}
	tag := lastLine(string(out))
	if exec.Command("docker", "image", "inspect", tag).Run() != nil {
		testenv.Missing(t, "image "+tag, "run make images (or set TENURE_POSTGRES_IMAGE)")
	}
	return tag
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
