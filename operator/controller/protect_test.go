package controller

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/tenure-pg/tenure/operator/api/v1"
)

func TestProtection(t *testing.T) {
	now := metav1.Now()
	for _, tc := range []struct {
		name      string
		annotated string
		finalizer bool
		deleting  bool
		want      finalizerStep
	}{
		{"unprotected", "", false, false, finalizerKeep},
		{"annotated: add", "true", false, false, finalizerAdd},
		{"annotated false: nothing", "false", false, false, finalizerKeep},
		{"protected: keep", "true", true, false, finalizerKeep},
		{"protected while deleting: keep, blocked", "true", true, true, finalizerKeep},
		{"annotation removed: remove", "", true, false, finalizerRemove},
		{"annotation removed while deleting: remove, deletion proceeds", "", true, true, finalizerRemove},
		{"annotated after delete began: never add", "true", false, true, finalizerKeep},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pc := &apiv1.PostgresCluster{}
			if tc.annotated != "" {
				pc.Annotations = map[string]string{apiv1.AnnotationDeleteProtect: tc.annotated}
			}
			if tc.finalizer {
				pc.Finalizers = []string{"other", apiv1.FinalizerDeleteProtect}
			}
			if tc.deleting {
				pc.DeletionTimestamp = &now
			}
			if got, reason := protection(pc); got != tc.want {
				t.Errorf("step %d (%s), want %d", got, reason, tc.want)
			}
		})
	}
}
