package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/tenure-pg/tenure/operator/api/v1"
	"github.com/tenure-pg/tenure/operator/build"
	"github.com/tenure-pg/tenure/podagent/ha"
)

// TestOperatorPodSpecParses: the flags and downward-API environment the
// operator renders into the StatefulSet (operator/build) are what this
// agent accepts, with the spec's values landing where they should.
func TestOperatorPodSpecParses(t *testing.T) {
	c := &apiv1.PostgresCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "alpha", Namespace: "db"},
		Spec: apiv1.PostgresClusterSpec{
			NumberOfInstances: 3,
			PostgreSQL:        apiv1.PostgreSQLSpec{Version: "16", Parameters: map[string]apiv1.ParameterValue{"work_mem": "64MB"}},
			Volume:            apiv1.VolumeSpec{Size: resource.MustParse("1Gi")},
			HA: apiv1.HASpec{TTL: 30, LoopWait: 10, RetryTimeout: 15, MaximumLagOnFailover: 4096,
				SynchronousMode: apiv1.SynchronousStrict, SynchronousNodeCount: 2, FailsafeMode: true},
		},
	}
	sts := build.StatefulSet(c, build.Options{Image: "x"})
	ctr := sts.Spec.Template.Spec.Containers[0]
	// The mounted token Secret, and the downward API's values.
	dir := t.TempDir()
	token := filepath.Join(dir, build.TokenKey)
	if err := os.WriteFile(token, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := make([]string, 0, len(ctr.Args))
	for _, a := range ctr.Args {
		if strings.HasPrefix(a, "--api-token-file=") {
			a = "--api-token-file=" + token
		}
		args = append(args, a)
	}
	downward := map[string]string{"POD_NAME": "alpha-1", "POD_NAMESPACE": "db", "POD_IP": "10.0.0.7", "POD_UID": "uid-1"}
	for _, e := range ctr.Env {
		v := e.Value
		if e.ValueFrom != nil {
			v = downward[e.Name]
		}
		if v == "" {
			t.Fatalf("env %s: no value", e.Name)
		}
		t.Setenv(e.Name, v)
	}
	o, err := parseFlags(args, io.Discard)
	if err != nil {
		t.Fatalf("tenure-agent %v: %v", args, err)
	}
	cfg := o.cfg
	for _, chk := range []struct {
		what      string
		got, want any
	}{
		{"cluster", cfg.Cluster, "alpha"},
		{"member", cfg.Member, "alpha-1"},
		{"namespace", cfg.Namespace, "db"},
		{"pod uid", cfg.PodUID, "uid-1"},
		{"api url", cfg.APIURL, "http://10.0.0.7:8008"},
		{"data dir", cfg.DataDir, "/var/lib/postgresql/data/pgdata"},
		{"bin dir", cfg.BinDir, "/usr/lib/postgresql/16/bin"},
		{"ttl", cfg.TTL, 30 * time.Second},
		{"loop wait", cfg.LoopWait, 10 * time.Second},
		{"retry period", cfg.RetryPeriod, 10 * time.Second},
		{"renew deadline", cfg.RenewDeadline, 15 * time.Second},
		{"max lag", cfg.MaximumLagOnFailover, uint64(4096)},
		{"sync mode", cfg.SyncMode, ha.SyncMode("strict")},
		{"sync count", cfg.SyncNodeCount, 2},
		{"failsafe", cfg.FailsafeMode, true},
		{"token", cfg.APIToken, "s3cret"},
		{"work_mem", cfg.Parameters["work_mem"], "64MB"},
	} {
		if chk.got != chk.want {
			t.Errorf("%s = %v, want %v", chk.what, chk.got, chk.want)
		}
	}
}
