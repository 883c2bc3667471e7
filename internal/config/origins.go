package config

import (
	"net/url"
	"strings"
)

// origins reads a comma-separated list of exact web origins
// (scheme://host[:port]) and returns them as browsers serialise the Origin
// header: lower case, without a default port, so that the HTTP layer can
// compare them byte for byte. A wildcard is refused: the API answers with
// credentials (the refresh cookie), and "any origin with credentials" would
// hand every site the user's session.
func (r *reader) origins(name string) []string {
	v := r.getenv(name)
	var out []string
	for _, raw := range strings.Split(v, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		o, ok := normalOrigin(raw)
		if !ok {
			if strings.Contains(raw, "*") {
				r.fail(name, "%q: wildcards are refused, since responses allow credentials (the refresh cookie); list each origin exactly", raw)
			} else {
				r.fail(name, "%q is not an origin: want scheme://host[:port] with http or https, no path, as in https://shop.example.com", raw)
			}
			return nil
		}
		out = append(out, o)
	}
	return out
}

// normalOrigin returns raw as a browser would send it in Origin, or false
// when raw is not a plain http(s) origin.
func normalOrigin(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(u.Host, "*") {
		return "", false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6
	}
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" {
		host += ":" + port
	}
	return u.Scheme + "://" + host, true
}
