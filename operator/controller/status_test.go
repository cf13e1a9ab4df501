package controller

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	apiv1 "github.com/tenure-pg/tenure/operator/api/v1"
)

func TestStatus(t *testing.T) {
	now := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	sts := func(replicas, have, ready int32) *appsv1.StatefulSet {
		return &appsv1.StatefulSet{
			Spec:   appsv1.StatefulSetSpec{Replicas: ptr.To(replicas)},
			Status: appsv1.StatefulSetStatus{Replicas: have, ReadyReplicas: ready},
		}
	}
	for _, tc := range []struct {
		name      string
		prev      apiv1.Phase
		sts       *appsv1.StatefulSet
		primary   string
		want      apiv1.Phase
		wantReady metav1.ConditionStatus
	}{
		{"no StatefulSet yet", "", nil, "", apiv1.PhaseCreating, metav1.ConditionFalse},
		{"first pods starting", "", sts(3, 1, 0), "", apiv1.PhaseCreating, metav1.ConditionFalse},
		{"creating until all ready", apiv1.PhaseCreating, sts(3, 3, 2), "alpha-0", apiv1.PhaseCreating, metav1.ConditionFalse},
		{"all ready with a primary", apiv1.PhaseCreating, sts(3, 3, 3), "alpha-0", apiv1.PhaseRunning, metav1.ConditionTrue},
		{"all ready but no primary", apiv1.PhaseRunning, sts(3, 3, 3), "", apiv1.PhaseDegraded, metav1.ConditionFalse},
		{"a replica down", apiv1.PhaseRunning, sts(3, 3, 2), "alpha-0", apiv1.PhaseDegraded, metav1.ConditionFalse},
		{"scaling up", apiv1.PhaseRunning, sts(3, 3, 3), "alpha-0", apiv1.PhaseScaling, metav1.ConditionFalse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &apiv1.PostgresCluster{
				ObjectMeta: metav1.ObjectMeta{Name: "alpha", Generation: 4},
				Spec:       apiv1.PostgresClusterSpec{NumberOfInstances: 3},
				Status:     apiv1.PostgresClusterStatus{Phase: tc.prev},
			}
			if tc.name == "scaling up" {
				c.Spec.NumberOfInstances = 5
			}
			s := Status(c, Observed{StatefulSet: tc.sts, Primary: tc.primary, Now: now})
			if s.Phase != tc.want {
				t.Errorf("phase %s, want %s", s.Phase, tc.want)
			}
			if got := meta.FindStatusCondition(s.Conditions, apiv1.ConditionReady); got == nil || got.Status != tc.wantReady {
				t.Errorf("Ready condition %+v, want %s", got, tc.wantReady)
			}
			if s.ObservedGeneration != 4 || s.CurrentPrimary != tc.primary {
				t.Errorf("observedGeneration %d primary %q", s.ObservedGeneration, s.CurrentPrimary)
			}
		})
	}
}

func TestStatusKeepsTransitionTime(t *testing.T) {
	c := &apiv1.PostgresCluster{ObjectMeta: metav1.ObjectMeta{Name: "alpha"}, Spec: apiv1.PostgresClusterSpec{NumberOfInstances: 1}}
	t0 := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	c.Status = Status(c, Observed{Now: t0})
	again := Status(c, Observed{Now: metav1.NewTime(t0.Add(time.Hour))})
	if got := meta.FindStatusCondition(again.Conditions, apiv1.ConditionReady); !got.LastTransitionTime.Equal(&t0) {
		t.Errorf("an unchanged condition moved its transition time to %v", got.LastTransitionTime)
	}
}

// TestInvalidSpec: parameters the agents refuse are refused here by the
// same validator, and reported as SpecValid=False.
func TestInvalidSpec(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params map[string]apiv1.ParameterValue
		valid  bool
	}{
		{"ordinary parameters", map[string]apiv1.ParameterValue{"work_mem": "8MB", "max_connections": "200"}, true},
		{"a command the agent owns", map[string]apiv1.ParameterValue{"archive_command": "touch x-%f"}, false},
		{"an agent-owned setting", map[string]apiv1.ParameterValue{"port": "1"}, false},
		{"a value that cannot be rendered", map[string]apiv1.ParameterValue{"work_mem": "1GB\ninclude '/etc/passwd'"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &apiv1.PostgresCluster{}
			c.Spec.PostgreSQL.Parameters = tc.params
			err := ValidateSpec(c)
			if (err == nil) != tc.valid {
				t.Fatalf("ValidateSpec = %v, want valid %v", err, tc.valid)
			}
			o := Observed{Now: metav1.Now()}
			if err != nil {
				o.SpecError = err.Error()
			}
			cond := meta.FindStatusCondition(Status(c, o).Conditions, apiv1.ConditionSpecValid)
			if cond == nil || (cond.Status == metav1.ConditionTrue) != tc.valid {
				t.Fatalf("SpecValid condition = %+v, want valid %v", cond, tc.valid)
			}
		})
	}
}
