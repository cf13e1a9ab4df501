package build

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	apiv1 "github.com/tenure-pg/tenure/operator/api/v1"
)

// Ports, paths and identities of the pod.
const (
	PostgresPort = 5432
	APIPort      = 8008

	// PostgresUID runs the container: the image's postgres user.
	PostgresUID = 999

	dataMount   = "/var/lib/postgresql/data"
	dataDir     = dataMount + "/pgdata" // below the mount: initdb wants an empty dir, lost+found is not
	tokenMount  = "/etc/tenure/api"
	socketMount = "/var/run/postgresql"

	dataVolume   = "pgdata"
	tokenVolume  = "api-token"
	socketVolume = "socket"

	// TokenKey is the API token's key in its Secret.
	TokenKey = "token"

	// terminationGrace bounds a graceful stop: a primary stops postgres
	// (a fast shutdown writes a checkpoint) and hands its Lease to a
	// caught-up replica, about a second on a small database but minutes
	// behind a large checkpoint; killing it earlier turns a hand-over
	// into a failover that waits out the TTL.
	terminationGrace = 300
)

// Options are the operator's settings the objects depend on.
type Options struct {
	// Image is used when the cluster's spec.image is empty.
	Image string
}

// StatefulSet runs the cluster's members: one container, tenure-agent as
// PID 1, which runs postgres.
//
// Pods start in parallel (podManagementPolicy Parallel): after a full
// outage the member with the newest WAL may have any ordinal, and
// OrderedReady would keep it waiting for pod-0 to become ready, which
// needs a leader. updateStrategy is OnDelete: the operator, not the
// StatefulSet controller, decides the order of a roll (replicas, then a
// switchover, then the old primary).
func StatefulSet(c *apiv1.PostgresCluster, o Options) *appsv1.StatefulSet {
	sel := Selector(c)
	podLabels := Labels(c)
	return &appsv1.StatefulSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: meta(c, c.Name),
		Spec: appsv1.StatefulSetSpec{
			Replicas:            ptr.To(c.Spec.NumberOfInstances),
			Selector:            &metav1.LabelSelector{MatchLabels: sel},
			ServiceName:         PodsServiceName(c.Name),
			PodManagementPolicy: appsv1.ParallelPodManagement,
			UpdateStrategy:      appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType},
			PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
				WhenDeleted: appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
				WhenScaled:  appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
			},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels, Annotations: c.Spec.PodAnnotations},
				Spec:       podSpec(c, o),
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{dataClaim(c)},
		},
	}
}

func podSpec(c *apiv1.PostgresCluster, o Options) corev1.PodSpec {
	return corev1.PodSpec{
		ServiceAccountName:            c.Name,
		TerminationGracePeriodSeconds: ptr.To[int64](terminationGrace),
		SecurityContext: &corev1.PodSecurityContext{
			RunAsUser:      ptr.To[int64](PostgresUID),
			RunAsGroup:     ptr.To[int64](PostgresUID),
			FSGroup:        ptr.To[int64](PostgresUID),
			RunAsNonRoot:   ptr.To(true),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Affinity:          affinity(c),
		Tolerations:       c.Spec.Tolerations,
		PriorityClassName: c.Spec.PodPriorityClassName,
		Containers:        []corev1.Container{container(c, o)},
		Volumes: []corev1.Volume{
			{Name: tokenVolume, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
				SecretName: APITokenSecretName(c.Name), DefaultMode: ptr.To[int32](0o440),
			}}},
			{Name: socketVolume, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		},
	}
}

// affinity prefers one member per node: a node loss then costs one
// member, not the primary and its only replica. spec.nodeAffinity adds
// where the pods may run.
func affinity(c *apiv1.PostgresCluster) *corev1.Affinity {
	return &corev1.Affinity{NodeAffinity: c.Spec.NodeAffinity, PodAntiAffinity: &corev1.PodAntiAffinity{
		PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
			Weight: 100,
			PodAffinityTerm: corev1.PodAffinityTerm{
				LabelSelector: &metav1.LabelSelector{MatchLabels: Selector(c)},
				TopologyKey:   "kubernetes.io/hostname",
			},
		}},
	}}
}

func container(c *apiv1.PostgresCluster, o Options) corev1.Container {
	image := c.Spec.Image
	if image == "" {
		image = o.Image
	}
	var res corev1.ResourceRequirements
	if c.Spec.Resources != nil {
		res = *c.Spec.Resources
	}
	return corev1.Container{
		Name:            "postgres",
		Image:           image,
		ImagePullPolicy: corev1.PullIfNotPresent,
		Command:         []string{"tenure-agent"},
		Args:            AgentArgs(c),
		Env:             env(c.Spec.Env),
		Ports: []corev1.ContainerPort{
			{Name: "postgresql", ContainerPort: PostgresPort, Protocol: corev1.ProtocolTCP},
			{Name: "api", ContainerPort: APIPort, Protocol: corev1.ProtocolTCP},
		},
		Resources: res,
		// Ready means the agent would route clients here: a running
		// primary or a streaming replica.
		ReadinessProbe: probe("/readiness", 5, 3),
		// Liveness is the agent's loop answering; generous so that a slow
		// API brownout never restarts a healthy member.
		LivenessProbe: probe("/liveness", 10, 6),
		VolumeMounts: []corev1.VolumeMount{
			{Name: dataVolume, MountPath: dataMount},
			{Name: tokenVolume, MountPath: tokenMount, ReadOnly: true},
			{Name: socketVolume, MountPath: socketMount},
		},
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
	}
}

func probe(path string, period, failures int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Path: path, Port: intstr.FromInt32(APIPort), Scheme: corev1.URISchemeHTTP,
		}},
		PeriodSeconds:    period,
		TimeoutSeconds:   5,
		FailureThreshold: failures,
	}
}

// env is the downward API the agent reads its identity from
// (cmd/tenure-agent: POD_NAME, POD_NAMESPACE, POD_IP, POD_UID, PGDATA),
// then the user's variables that do not shadow those.
func env(extra []corev1.EnvVar) []corev1.EnvVar {
	field := func(name, path string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{
			FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: path},
		}}
	}
	own := []corev1.EnvVar{
		field("POD_NAME", "metadata.name"),
		field("POD_NAMESPACE", "metadata.namespace"),
		field("POD_IP", "status.podIP"),
		field("POD_UID", "metadata.uid"),
		{Name: "PGDATA", Value: dataDir},
	}
	out := own
	for _, e := range extra {
		if !slices.ContainsFunc(own, func(o corev1.EnvVar) bool { return o.Name == e.Name }) {
			out = append(out, e)
		}
	}
	return out
}

// AgentArgs are tenure-agent's flags for the cluster's spec.
func AgentArgs(c *apiv1.PostgresCluster) []string {
	ha := c.Spec.HA
	sec := func(s int32) string { return fmt.Sprintf("%ds", s) }
	args := []string{
		"--cluster=" + c.Name,
		"--api-token-file=" + tokenMount + "/" + TokenKey,
		"--socket-dir=" + socketMount,
		// The image holds Debian's layout, one directory per major version.
		"--bin-dir=/usr/lib/postgresql/" + c.Spec.PostgreSQL.Version + "/bin",
		"--ttl=" + sec(ha.TTL),
		"--loop-wait=" + sec(ha.LoopWait),
		// The leader renews every loop, as Patroni's leader does.
		"--retry-period=" + sec(ha.LoopWait),
		"--renew-deadline=" + sec(ha.RetryTimeout),
		fmt.Sprintf("--maximum-lag-on-failover=%d", ha.MaximumLagOnFailover),
		"--sync-mode=" + string(ha.SynchronousMode),
		fmt.Sprintf("--sync-node-count=%d", ha.SynchronousNodeCount),
		fmt.Sprintf("--failsafe=%t", ha.FailsafeMode),
		"--log-json",
	}
	if p := params(c.Spec.PostgreSQL.Parameters); p != "" {
		args = append(args, "--pg-params="+p)
	}
	return args
}

// params renders parameters sorted, so the pod template is stable.
func params(m map[string]apiv1.ParameterValue) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	kv := make([]string, 0, len(keys))
	for _, k := range keys {
		kv = append(kv, k+"="+string(m[k]))
	}
	return strings.Join(kv, ",")
}

// dataClaim is the PVC template: no owner reference, ever (see package doc).
func dataClaim(c *apiv1.PostgresCluster) corev1.PersistentVolumeClaim {
	return corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: dataVolume, Labels: Labels(c)},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: c.Spec.Volume.StorageClass,
			Resources: corev1.VolumeResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceStorage: c.Spec.Volume.Size},
			},
		},
	}
}
