package controller

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	apiv1 "github.com/tenure-pg/tenure/operator/api/v1"
	"github.com/tenure-pg/tenure/operator/build"
	"github.com/tenure-pg/tenure/podagent/pgconf"
)

// Observed is what the status is computed from.
type Observed struct {
	StatefulSet *appsv1.StatefulSet // nil before it exists
	Primary     string              // the pod labelled role=primary, "" for none
	// ResizeRefused is why the apiserver refused to grow a PVC, "" when
	// every claim has spec.volume.size or was just patched to it.
	ResizeRefused string
	// SpecError is why the spec cannot be applied (see ValidateSpec), ""
	// when it can.
	SpecError string
	Now       metav1.Time
}

// Status is the cluster's status given what was observed: pure, so every
// phase has a table test.
func Status(c *apiv1.PostgresCluster, o Observed) apiv1.PostgresClusterStatus {
	s := *c.Status.DeepCopy()
	s.ObservedGeneration = c.Generation
	s.Selector = labels.SelectorFromSet(build.Selector(c)).String()
	s.CurrentPrimary = o.Primary
	s.Instances, s.ReadyInstances = 0, 0
	if o.StatefulSet != nil {
		s.Instances = o.StatefulSet.Status.Replicas
		s.ReadyInstances = o.StatefulSet.Status.ReadyReplicas
	}
	want := c.Spec.NumberOfInstances
	ready := s.ReadyInstances == want && o.Primary != ""
	var reason, msg string
	switch {
	case o.StatefulSet == nil:
		s.Phase, reason, msg = apiv1.PhaseCreating, "Creating", "the StatefulSet does not exist yet"
	case ready && s.Instances == want:
		s.Phase, reason, msg = apiv1.PhaseRunning, "AllInstancesReady", "every instance is ready and one is primary"
	case c.Status.Phase == "" || c.Status.Phase == apiv1.PhaseCreating:
		s.Phase, reason, msg = apiv1.PhaseCreating, "Creating", "waiting for the first instances to become ready"
	case s.Instances != want || derefReplicas(o.StatefulSet) != want:
		s.Phase, reason, msg = apiv1.PhaseScaling, "Scaling", "the StatefulSet is moving to numberOfInstances"
	case o.Primary == "":
		s.Phase, reason, msg = apiv1.PhaseDegraded, "NoPrimary", "no pod is labelled primary"
	default:
		s.Phase, reason, msg = apiv1.PhaseDegraded, "InstancesNotReady", "some instances are not ready"
	}
	setCondition(&s, apiv1.ConditionReady, s.Phase == apiv1.PhaseRunning, reason, msg, c.Generation, o.Now)
	progressing := s.Phase == apiv1.PhaseCreating || s.Phase == apiv1.PhaseScaling
	setCondition(&s, apiv1.ConditionProgressing, progressing, reason, msg, c.Generation, o.Now)
	if o.ResizeRefused != "" {
		setCondition(&s, apiv1.ConditionVolumeResized, false, "ResizeRefused", o.ResizeRefused, c.Generation, o.Now)
	} else {
		setCondition(&s, apiv1.ConditionVolumeResized, true, "AtRequestedSize", "every data PVC requests spec.volume.size", c.Generation, o.Now)
	}
	if o.SpecError != "" {
		setCondition(&s, apiv1.ConditionSpecValid, false, "InvalidSpec", o.SpecError+"; nothing of this generation applied", c.Generation, o.Now)
	} else {
		setCondition(&s, apiv1.ConditionSpecValid, true, "Applied", "the spec is what the agents accept", c.Generation, o.Now)
	}
	return s
}

// ValidateSpec refuses what the schema cannot: parameters the agents
// would refuse, judged by the agents' own validator (pgconf), so a spec
// the operator applies never keeps a pod from starting.
func ValidateSpec(c *apiv1.PostgresCluster) error {
	params := make(map[string]string, len(c.Spec.PostgreSQL.Parameters))
	for k, v := range c.Spec.PostgreSQL.Parameters {
		params[k] = string(v)
	}
	if err := pgconf.ValidateParameters(params); err != nil {
		return fmt.Errorf("spec.postgresql.parameters: %w", err)
	}
	return nil
}

func derefReplicas(sts *appsv1.StatefulSet) int32 {
	if sts.Spec.Replicas == nil {
		return 1
	}
	return *sts.Spec.Replicas
}

func setCondition(s *apiv1.PostgresClusterStatus, typ string, ok bool, reason, msg string, gen int64, now metav1.Time) {
	status := metav1.ConditionFalse
	if ok {
		status = metav1.ConditionTrue
	}
	meta.SetStatusCondition(&s.Conditions, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: msg,
		ObservedGeneration: gen, LastTransitionTime: now,
	})
}
