package argocd

import (
	"net/netip"
	"net/url"
	"strings"
)

// ServerKey is the API server that the server URL s names: what two
// clusters must not share, and what a cluster renamed keeps. Argo CD looks
// a cluster up by its server URL with trailing slashes trimmed (util/db:
// getClusterSecret and the byClusterURL index compare
// strings.TrimRight(server, "/")); beyond that, a host's case, the default
// port :443 and the spelling of an IPv6 address (or of an IPv4 address
// written as one) make no other server, though Argo CD would take them for
// two clusters and deploy to the one API server twice. compile's check of
// duplicate servers and diff's recognition of a renamed cluster both use
// it, so that they agree on what one server is. s that does not parse is
// its own key.
func ServerKey(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	host := strings.ToLower(u.Hostname())
	if a, err := netip.ParseAddr(host); err == nil {
		host = a.Unmap().String() // [::ffff:10.0.0.1] is 10.0.0.1
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port := u.Port(); port != "" && port != "443" {
		host += ":" + port
	}
	// The path as written (escaped), as Argo CD compares it: a decoded
	// %00 would be no server at all.
	return "https://" + host + strings.TrimRight(u.EscapedPath(), "/")
}
