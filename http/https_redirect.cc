#include "http/https_redirect.h"

namespace relais::http {

std::string HttpsLocation(const httplib::Request& req, const CertificateInfo& cert, int https_port) {
  std::string host = req.get_header_value("Host");
  // Drop the port: "ecole.lan:80", "[fd00::1]:80".
  size_t colon = host.rfind(':');
  if (colon != std::string::npos && host.find(']', colon) == std::string::npos) host.resize(colon);
  if (host.empty() || host.find_first_of(" /\\\"<>@") != std::string::npos || !cert.Covers(host)) {
    host = !cert.dns_names.empty() ? cert.dns_names.front() : !cert.ips.empty() ? cert.ips.front() : host;
    if (host.find(':') != std::string::npos) host = "[" + host + "]";  // an IPv6 address
  }
  std::string out = "https://" + host;
  if (https_port != 443) out += ":" + std::to_string(https_port);
  out += req.target.empty() || req.target.front() != '/' ? std::string(1, '/') : req.target;
  return out;
}

void WriteHttpsRedirect(const httplib::Request& req, httplib::Response& res, const CertificateInfo& cert,
                        int https_port) {
  std::string location = HttpsLocation(req, cert, https_port);
  res.status = req.method == "GET" || req.method == "HEAD" ? 301 : 308;
  res.set_header("Location", location);
  res.set_header("Cache-Control", "no-store");  // turning HTTPS off again must work
  res.set_content("Relais: " + location + "\n", "text/plain; charset=utf-8");
}

}  // namespace relais::http
