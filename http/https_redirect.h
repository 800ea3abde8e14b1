// http/https_redirect.h — sending plain-HTTP visitors of the app to HTTPS.
//
// Used only when the box serves HTTPS and `https_redirect` is on (a school
// whose tablets all trust the box's certificate). The connectivity probes,
// the RFC 8908 API and /ca.crt always stay on plain HTTP: tablets probe over
// http://, and a tablet must fetch the CA before it can trust https://.
// The redirect names a host the certificate covers: the one the visitor
// typed when it is covered, else the certificate's first name, so a tap on
// http://10.42.0.1/ does not end on a certificate warning.
#pragma once

#include <httplib.h>

#include <string>
#include <string_view>

#include "http/tls_context.h"

namespace relais::http {

// https://HOST[:PORT]TARGET for `req`, with HOST chosen as above and the
// port left out when it is 443.
std::string HttpsLocation(const httplib::Request& req, const CertificateInfo& cert, int https_port);

// Answers `res` with a redirect to HttpsLocation (301 for GET and HEAD, 308
// otherwise, which keeps the method and body).
void WriteHttpsRedirect(const httplib::Request& req, httplib::Response& res, const CertificateInfo& cert,
                        int https_port);

}  // namespace relais::http
