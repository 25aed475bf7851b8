package dashboard

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
)

// BasicAuth returns an AuthorizeFunc that asks for HTTP basic
// authentication and lets through only user with password. It compares
// hashes of both in constant time, so the time taken tells nothing about
// how much of a guess was right.
func BasicAuth(user, password string) func(http.ResponseWriter, *http.Request) bool {
	wantUser := sha256.Sum256([]byte(user))
	wantPass := sha256.Sum256([]byte(password))
	return func(w http.ResponseWriter, r *http.Request) bool {
		u, p, ok := r.BasicAuth()
		gotUser := sha256.Sum256([]byte(u))
		gotPass := sha256.Sum256([]byte(p))
		userOK := subtle.ConstantTimeCompare(gotUser[:], wantUser[:])
		passOK := subtle.ConstantTimeCompare(gotPass[:], wantPass[:])
		if ok && userOK&passOK == 1 {
			return true
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="goodjob", charset="UTF-8"`)
		http.Error(w, "authentication required", http.StatusUnauthorized)
		return false
	}
}

// csrfCookie holds the browser's anti-forgery token. Every form carries the
// same value in a hidden field; a forged request from another site cannot
// read the cookie, so it cannot send the matching field. This backs up
// http.CrossOriginProtection for clients that send no Origin or
// Sec-Fetch-Site header.
const (
	csrfCookie = "goodjob_csrf"
	csrfField  = "csrf_token"
)

// csrfToken returns the request's token, setting a new cookie when it has
// none.
func (h *handler) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{
		Name: csrfCookie, Value: token, Path: h.cfg.BasePath + "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	return token
}

// csrfValid reports whether a POST carries the token of its cookie.
func csrfValid(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || c.Value == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue(csrfField))) == 1
}
