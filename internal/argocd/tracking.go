package argocd

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/util/validation"
)

// TrackingMethod is how Argo CD marks the resources an Application owns:
// the value of `application.resourceTrackingMethod` in the argocd-cm
// ConfigMap (argo-cd's util/argo/resource_tracking.go). It decides where an
// Application's name goes, and so how long the name may be.
type TrackingMethod string

// The tracking methods Argo CD knows.
const (
	// TrackingLabel puts the Application's name, whole, in the
	// InstanceLabel label of every resource; a name that is no valid label
	// value (63 characters at most) fails every sync. Argo CD's default
	// before 3.0, and what an empty setting means here: the strictest.
	TrackingLabel TrackingMethod = "label"
	// TrackingAnnotation writes the name into the TrackingIDAnnotation
	// annotation only. Argo CD's default since 3.0.
	TrackingAnnotation TrackingMethod = "annotation"
	// TrackingAnnotationAndLabel tracks by annotation and also sets the
	// label for other tools, cut to 63 characters, so it does not bound
	// the name.
	TrackingAnnotationAndLabel TrackingMethod = "annotation+label"
)

// TrackingMethods are the tracking methods, in the order a message lists
// them.
var TrackingMethods = []TrackingMethod{TrackingLabel, TrackingAnnotation, TrackingAnnotationAndLabel}

// InstanceLabel is the label Argo CD's label tracking sets to the
// Application's name (application.instanceLabelKey's default).
const InstanceLabel = "app.kubernetes.io/instance"

// TrackingIDAnnotation is the annotation annotation tracking sets.
const TrackingIDAnnotation = "argocd.argoproj.io/tracking-id"

// Valid reports whether m is a method Argo CD knows; empty is valid and
// means TrackingLabel.
func (m TrackingMethod) Valid() bool {
	return m == "" || slices.Contains(TrackingMethods, m)
}

// labelsName reports whether m puts the whole Application name in a label.
func (m TrackingMethod) labelsName() bool { return m == "" || m == TrackingLabel }

// NameLimit is the most characters an Application name may have under m:
// that of a label value under label tracking, else that of the name of a
// Kubernetes object (a DNS subdomain).
func (m TrackingMethod) NameLimit() int {
	if m.labelsName() {
		return validation.LabelValueMaxLength
	}
	return validation.DNS1123SubdomainMaxLength
}

// LimitReason says why NameLimit is what it is under m, for messages.
func (m TrackingMethod) LimitReason() string {
	if m.labelsName() {
		return fmt.Sprintf("Argo CD's label tracking puts the name in the %s label of every resource, which holds %d characters", InstanceLabel, m.NameLimit())
	}
	return fmt.Sprintf("an Application is a Kubernetes object, whose name holds %d characters", m.NameLimit())
}

// ApplicationNameChars returns what is wrong with the characters of name
// as the name of an Application, a Kubernetes object (a DNS subdomain), as
// the API server says it. Such a name is also a valid label value but for
// its length, which is left to NameLimit: the caller can say which part of
// the name to shorten.
func ApplicationNameChars(name string) []string {
	var msgs []string
	for _, msg := range validation.IsDNS1123Subdomain(name) {
		if msg != validation.MaxLenError(validation.DNS1123SubdomainMaxLength) {
			msgs = append(msgs, msg)
		}
	}
	return msgs
}
