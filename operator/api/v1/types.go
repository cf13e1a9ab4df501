package v1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PostgresCluster is one highly available PostgreSQL cluster: a
// StatefulSet of tenure-agent pods, its Services, RBAC and Secrets.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=postgresclusters,singular=postgrescluster,shortName=pgc,categories=tenure
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.numberOfInstances,statuspath=.status.readyInstances,selectorpath=.status.selector
// +kubebuilder:printcolumn:name="Ready",type=integer,JSONPath=`.status.readyInstances`
// +kubebuilder:printcolumn:name="Instances",type=integer,JSONPath=`.spec.numberOfInstances`
// +kubebuilder:printcolumn:name="Primary",type=string,JSONPath=`.status.currentPrimary`
// +kubebuilder:printcolumn:name="Version",type=string,JSONPath=`.spec.postgresql.version`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type PostgresCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   PostgresClusterSpec   `json:"spec"`
	Status PostgresClusterStatus `json:"status,omitempty"`
}

// PostgresClusterList is a list of PostgresClusters.
//
// +kubebuilder:object:root=true
type PostgresClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []PostgresCluster `json:"items"`
}

// PostgresClusterSpec is what the user asks for.
//
// +kubebuilder:validation:XValidation:rule="self.numberOfInstances >= 1",message="numberOfInstances must be at least 1"
type PostgresClusterSpec struct {
	// NumberOfInstances is the number of members (pods), primary included.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Maximum=64
	NumberOfInstances int32 `json:"numberOfInstances"`

	// Image is the PostgreSQL + tenure-agent image; empty means the
	// operator's default (its --default-image).
	// +optional
	Image string `json:"image,omitempty"`

	// PostgreSQL is the server's major version and parameters.
	PostgreSQL PostgreSQLSpec `json:"postgresql"`

	// Volume is each member's data volume (a PVC per pod, kept when the
	// cluster is deleted).
	Volume VolumeSpec `json:"volume"`

	// Resources of the postgres container.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`

	// Tolerations of the pods.
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// NodeAffinity of the pods (Zalando's nodeAffinity).
	// +optional
	NodeAffinity *corev1.NodeAffinity `json:"nodeAffinity,omitempty"`

	// PodPriorityClassName is the pods' PriorityClass.
	// +optional
	PodPriorityClassName string `json:"podPriorityClassName,omitempty"`

	// PodAnnotations are added to the pods.
	// +optional
	PodAnnotations map[string]string `json:"podAnnotations,omitempty"`

	// Env adds variables to the postgres container, values from Secrets
	// and ConfigMaps included; the agent's own (POD_*, PGDATA) win.
	// +optional
	// +kubebuilder:validation:MaxItems=128
	Env []corev1.EnvVar `json:"env,omitempty"`

	// Users are the roles to create, with their flags (Zalando's users,
	// as a list). A password Secret <cluster>-<user> is generated for each.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:XValidation:rule="self.all(u, self.exists_one(v, v.name == u.name))",message="users: each name may appear only once"
	Users []User `json:"users,omitempty"`

	// Databases maps a database name to its owner, as in Zalando's manifest.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	Databases map[string]string `json:"databases,omitempty"`

	// EnableConnectionPooler asks for a PgBouncer Deployment in front of
	// the primary. Not acted on yet.
	// +optional
	EnableConnectionPooler *bool `json:"enableConnectionPooler,omitempty"`

	// Clone creates the cluster from another cluster's archive.
	// +optional
	Clone *CloneSpec `json:"clone,omitempty"`

	// Standby makes the whole cluster a standby of another one.
	// +optional
	Standby *StandbySpec `json:"standby,omitempty"`

	// TLS serves PostgreSQL with this certificate.
	// +optional
	TLS *TLSSpec `json:"tls,omitempty"`

	// HA tunes leader election and failover.
	// +optional
	// +kubebuilder:default={}
	HA HASpec `json:"ha,omitempty"`
}

// PostgreSQLSpec is Zalando's postgresql block.
type PostgreSQLSpec struct {
	// Version is the PostgreSQL major version. It cannot be changed in
	// place: a major upgrade is its own procedure.
	// +kubebuilder:validation:Enum="15";"16";"17"
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="postgresql.version is immutable: a major upgrade is not a spec edit"
	Version string `json:"version"`

	// Parameters are postgresql.conf settings. The agent refuses the ones
	// it owns or that run commands (see pgconf.ValidateParameters).
	// +optional
	// +kubebuilder:validation:MaxProperties=256
	Parameters map[string]ParameterValue `json:"parameters,omitempty"`
}

// ParameterValue is a postgresql.conf value. The agent takes parameters
// as one comma-separated flag for now, so a value cannot hold a comma.
// +kubebuilder:validation:MaxLength=4096
// +kubebuilder:validation:Pattern=`^[^,]*$`
type ParameterValue string

// VolumeSpec is the data volume of each member.
//
// +kubebuilder:validation:XValidation:rule="quantity(string(self.size)).compareTo(quantity(string(oldSelf.size))) >= 0",message="volume.size can only grow"
// +kubebuilder:validation:XValidation:rule="has(self.storageClass) == has(oldSelf.storageClass) && (!has(self.storageClass) || self.storageClass == oldSelf.storageClass)",message="volume.storageClass is immutable"
type VolumeSpec struct {
	// Size of each member's PVC, e.g. 10Gi.
	Size resource.Quantity `json:"size"`

	// StorageClass of the PVCs; empty means the cluster's default.
	// +optional
	StorageClass *string `json:"storageClass,omitempty"`
}

// UserFlag is a role attribute, as in CREATE ROLE.
// +kubebuilder:validation:Enum=superuser;inherit;login;nologin;createrole;createdb;replication;bypassrls
type UserFlag string

// User is a role the operator creates.
type User struct {
	// Name of the role.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z_][a-z0-9_]*$`
	Name string `json:"name"`

	// Flags are the role's attributes.
	// +optional
	// +kubebuilder:validation:MaxItems=8
	Flags []UserFlag `json:"flags,omitempty"`
}

// CloneSpec names the source cluster of a clone, as Zalando's clone block.
type CloneSpec struct {
	// Cluster is the source cluster's name.
	// +kubebuilder:validation:MinLength=1
	Cluster string `json:"cluster"`

	// UID is the source cluster's metadata.uid, which finds its archive
	// even after it was deleted.
	// +optional
	UID string `json:"uid,omitempty"`

	// Timestamp is the point in time to recover to (RFC 3339); empty is
	// the end of the archive.
	// +optional
	// +kubebuilder:validation:Format=date-time
	Timestamp string `json:"timestamp,omitempty"`
}

// StandbySpec makes the cluster follow another one.
type StandbySpec struct {
	// StandbyHost is the source primary's address to stream from.
	// +optional
	StandbyHost string `json:"standbyHost,omitempty"`

	// StandbyPort is the source primary's port.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	StandbyPort int32 `json:"standbyPort,omitempty"`
}

// TLSSpec names the Secret with the server certificate, as Zalando's tls block.
type TLSSpec struct {
	// SecretName holds the certificate and key.
	// +kubebuilder:validation:MinLength=1
	SecretName string `json:"secretName"`

	// CertificateFile is the certificate's key in the Secret.
	// +optional
	// +kubebuilder:default="tls.crt"
	CertificateFile string `json:"certificateFile,omitempty"`

	// PrivateKeyFile is the private key's key in the Secret.
	// +optional
	// +kubebuilder:default="tls.key"
	PrivateKeyFile string `json:"privateKeyFile,omitempty"`

	// CAFile is the CA's key in the Secret (or in CASecretName).
	// +optional
	CAFile string `json:"caFile,omitempty"`

	// CASecretName holds the CA when it is not in SecretName.
	// +optional
	CASecretName string `json:"caSecretName,omitempty"`
}

// SynchronousMode is off, on or strict, as Patroni's synchronous_mode(_strict).
// +kubebuilder:validation:Enum=off;on;strict
type SynchronousMode string

// Synchronous modes.
const (
	SynchronousOff    SynchronousMode = "off"
	SynchronousOn     SynchronousMode = "on"
	SynchronousStrict SynchronousMode = "strict"
)

// HASpec is Patroni's DCS settings, in seconds and bytes. The leader renews
// its Lease every loopWait and gives up leading retryTimeout after its last
// successful renewal, which must come before anyone else can see the
// Lease expire (ttl): ttl > retryTimeout > 1.2 × loopWait.
//
// +kubebuilder:validation:XValidation:rule="!has(self.retryTimeout) || !has(self.ttl) || self.retryTimeout < self.ttl",message="ha.retryTimeout must be less than ha.ttl"
// +kubebuilder:validation:XValidation:rule="!has(self.retryTimeout) || !has(self.loopWait) || self.retryTimeout * 5 > self.loopWait * 6",message="ha.retryTimeout must exceed 1.2 × ha.loopWait (the leader renews every loopWait)"
type HASpec struct {
	// TTL of the leader Lease, in seconds.
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=3
	// +kubebuilder:validation:Maximum=600
	TTL int32 `json:"ttl,omitempty"`

	// LoopWait is the longest the agent's loop sleeps, and the leader's
	// renewal period, in seconds.
	// +kubebuilder:default=5
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=300
	LoopWait int32 `json:"loopWait,omitempty"`

	// RetryTimeout is how long a leader keeps leading without a
	// successful renewal (the agent's renew deadline), in seconds.
	// +kubebuilder:default=7
	// +kubebuilder:validation:Minimum=2
	// +kubebuilder:validation:Maximum=599
	RetryTimeout int32 `json:"retryTimeout,omitempty"`

	// MaximumLagOnFailover is how many bytes a candidate may lag the best
	// live member and still be promoted.
	// +kubebuilder:default=1048576
	// +kubebuilder:validation:Minimum=0
	MaximumLagOnFailover int64 `json:"maximumLagOnFailover,omitempty"`

	// SynchronousMode: off, on (synchronous while a standby is there) or
	// strict (no commit without a synchronous standby).
	// +kubebuilder:default=off
	SynchronousMode SynchronousMode `json:"synchronousMode,omitempty"`

	// SynchronousNodeCount is the number of synchronous standbys.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=63
	SynchronousNodeCount int32 `json:"synchronousNodeCount,omitempty"`

	// FailsafeMode keeps a primary that a majority of members still
	// reach over REST through a Kubernetes API outage.
	// +optional
	FailsafeMode bool `json:"failsafeMode,omitempty"`
}

// Deletion protection: a cluster annotated AnnotationDeleteProtect=true
// carries FinalizerDeleteProtect, so kubectl delete leaves it (and
// everything it owns) in place, Terminating, until the annotation is
// removed.
const (
	AnnotationDeleteProtect = "tenure.dev/delete-protect"
	FinalizerDeleteProtect  = "tenure.dev/delete-protect"
)

// Phase is a one-word summary of the cluster's state.
type Phase string

// Phases.
const (
	PhaseCreating Phase = "Creating"
	PhaseRunning  Phase = "Running"
	PhaseScaling  Phase = "Scaling"
	PhaseDegraded Phase = "Degraded"
)

// Condition types.
const (
	// ConditionReady is True when every instance is ready and one is primary.
	ConditionReady = "Ready"
	// ConditionProgressing is True while the StatefulSet has not caught up
	// with the spec.
	ConditionProgressing = "Progressing"
	// ConditionVolumeResized is False while the apiserver refuses to grow
	// a PVC to spec.volume.size (e.g. its storage class cannot expand).
	ConditionVolumeResized = "VolumeResized"
	// ConditionSpecValid is False while the spec holds what the agents
	// would refuse (postgresql.parameters they own or that run commands):
	// nothing of that generation is applied.
	ConditionSpecValid = "SpecValid"
)

// PostgresClusterStatus is what the operator observed.
type PostgresClusterStatus struct {
	// ObservedGeneration is the spec generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Phase is Creating, Running, Scaling or Degraded.
	// +optional
	Phase Phase `json:"phase,omitempty"`

	// Instances is the number of pods the StatefulSet has.
	// +optional
	Instances int32 `json:"instances,omitempty"`

	// ReadyInstances is the number of ready pods.
	// +optional
	ReadyInstances int32 `json:"readyInstances,omitempty"`

	// CurrentPrimary is the pod labelled tenure.dev/role=primary.
	// +optional
	CurrentPrimary string `json:"currentPrimary,omitempty"`

	// Selector is the label selector of the cluster's pods (scale subresource).
	// +optional
	Selector string `json:"selector,omitempty"`

	// Conditions are Ready, Progressing, VolumeResized and SpecValid.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}
