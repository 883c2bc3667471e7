package token

import "testing"

func TestThumbprint(t *testing.T) {
	tests := []struct {
		name string
		jwk  JWK
		want string
	}{
		{
			// RFC 7638 §3.1. Members other than the required ones (kid, use,
			// alg) must not change the thumbprint.
			name: "RFC 7638 example RSA key",
			jwk: JWK{
				Kty: "RSA",
				N:   "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
				E:   "AQAB",
				Kid: "2011-04-29", Use: "sig", Alg: "RS256",
			},
			want: "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
		},
		{
			// sha256(`{"crv":"P-256","kty":"EC","x":"x","y":"y"}`), base64url: checks
			// the EC members and their order.
			name: "EC members in lexicographic order",
			jwk:  JWK{Kty: "EC", Crv: "P-256", X: "x", Y: "y", Kid: "ignored"},
			want: "lTYYwPiOVLnEGn_2tedaJs97fsHfTdR0jdsLJVF2RuA",
		},
		{
			// sha256(`{"crv":"Ed25519","kty":"OKP","x":"x"}`), base64url.
			name: "OKP members in lexicographic order",
			jwk:  JWK{Kty: "OKP", Crv: "Ed25519", X: "x", Use: "sig"},
			want: "d1u8b-Fwr5b8iKpk9rLtsS8iROnecNs2vQrOoypLwqw",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := thumbprint(tt.jwk); got != tt.want {
				t.Errorf("thumbprint = %q; want %q", got, tt.want)
			}
		})
	}
}
