package store

import "slices"

// ChangedFields names, in the snake_case of the language surface, the fields
// in which a and b differ (the detail of an update_user audit entry).
func ChangedFields(a, b User) []string {
	var out []string
	for _, f := range []struct {
		name string
		x, y any
	}{
		{"sip_address", a.SipAddress, b.SipAddress}, {"display_name", a.DisplayName, b.DisplayName},
		{"user_principal_name", a.UserPrincipalName, b.UserPrincipalName},
		{"sam_account_name", a.SamAccountName, b.SamAccountName}, {"domain", a.Domain, b.Domain},
		{"distinguished_name", a.DistinguishedName, b.DistinguishedName}, {"enabled", a.Enabled, b.Enabled},
		{"registrar_pool", a.RegistrarPool, b.RegistrarPool}, {"line_uri", a.LineURI, b.LineURI},
		{"enterprise_voice_enabled", a.EnterpriseVoiceEnabled, b.EnterpriseVoiceEnabled},
		{"site", a.Site, b.Site}, {"pin_policy", a.PinPolicy, b.PinPolicy},
		{"title", a.Title, b.Title}, {"department", a.Department, b.Department}, {"city", a.City, b.City},
		{"company", a.Company, b.Company}, {"mail", a.Mail, b.Mail}, {"given_name", a.GivenName, b.GivenName},
		{"surname", a.Surname, b.Surname}, {"telephone_number", a.TelephoneNumber, b.TelephoneNumber},
	} {
		if f.x != f.y {
			out = append(out, f.name)
		}
	}
	if !slices.Equal(a.MemberOf, b.MemberOf) {
		out = append(out, "member_of")
	}
	return out
}
