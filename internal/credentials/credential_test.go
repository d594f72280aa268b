package credentials

import "testing"

func TestIsName(t *testing.T) {
	for name, want := range map[string]bool{
		"password": true, "adminPassword": true, "api_token": true, "clientSecret": true,
		"secretAccessKey": true, "bearer-token": true, "PRIVATE_KEY": true,
		"existingSecret": false, "tokenProperty": false, "secretStore": false, "name": false, "replicas": false,
	} {
		if got := IsName(name); got != want {
			t.Errorf("IsName(%q) = %v, want %v", name, got, want)
		}
	}
}
