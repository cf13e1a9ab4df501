package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Group, Version, Kind and Resource name the API.
const (
	Group    = "tenure.dev"
	Version  = "v1"
	Kind     = "PostgresCluster"
	Resource = "postgresclusters"
)

// SchemeGroupVersion is tenure.dev/v1.
var SchemeGroupVersion = schema.GroupVersion{Group: Group, Version: Version}

// GroupVersionResource is postgresclusters.tenure.dev/v1, for dynamic clients.
var GroupVersionResource = SchemeGroupVersion.WithResource(Resource)

// GroupVersionKind is tenure.dev/v1 PostgresCluster.
var GroupVersionKind = SchemeGroupVersion.WithKind(Kind)

var (
	schemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)
	// AddToScheme adds PostgresCluster and PostgresClusterList to a scheme.
	AddToScheme = schemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(SchemeGroupVersion, &PostgresCluster{}, &PostgresClusterList{})
	metav1.AddToGroupVersion(s, SchemeGroupVersion)
	return nil
}
