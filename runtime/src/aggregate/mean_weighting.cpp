#include "edgefl/aggregate/mean_weighting.hpp"

#include <string>

namespace edgefl {

std::string_view mean_weighting_name(MeanWeighting weighting) {
  return weighting == MeanWeighting::uniform ? "uniform" : "samples";
}

Result<MeanWeighting> parse_mean_weighting(std::string_view name) {
  if (name == "samples") return MeanWeighting::samples;
  if (name == "uniform") return MeanWeighting::uniform;
  return make_status(StatusCode::invalid_argument,
                     "mean weighting '" + std::string(name) + "' is not samples or uniform");
}

}  // namespace edgefl
