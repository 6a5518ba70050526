// The status endpoint's documents, rendered from a FleetSnapshot (no HTTP here, so the unit
// tests check the text itself).
//
//   std::string text = prometheus_text(*snapshot);                  // GET /metrics
//   std::string json = status_json(*snapshot, *parse_page_request("2", "50"));  // GET /status
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "edgefl/base/status.hpp"
#include "fleet_snapshot.hpp"

namespace edgefl::server {

// Prometheus text exposition format 0.0.4, every name prefixed edgefl_, no per-device labels.
inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";
std::string prometheus_text(const FleetSnapshot& snapshot);

// The device table's page: pages count from 1.
struct PageRequest {
  uint64_t page = 1;
  uint64_t per_page = 50;
  static constexpr uint64_t kMaxPerPage = 1000;
};
// From the query's `page` and `per_page` values (empty: the default); invalid_argument names a
// value that is not a whole number in range.
Result<PageRequest> parse_page_request(std::string_view page, std::string_view per_page);

// Run settings, the current round and its deadline, totals and one page of the device table.
std::string status_json(const FleetSnapshot& snapshot, const PageRequest& page);

// The self-contained status page (HTML, CSS and script inline; it polls /status).
std::string_view status_page_html();

}  // namespace edgefl::server
