// The sliding window of a conv or pool layer over a per-sample HWC input. Private.
#pragma once

#include <cstddef>

#include "edgefl/base/model_spec.hpp"

namespace edgefl {

struct Window {
  std::size_t in_h, in_w, channels, out_h, out_w;
  std::size_t kh, kw, sh, sw, dh, dw;
  std::size_t pad_top, pad_left;

  static Window of(const LayerGeometry& g) {
    const LayerSpec& l = g.spec;
    const bool pool = l.kind == LayerKind::max_pool2d || l.kind == LayerKind::avg_pool2d;
    Window w{g.in.h, g.in.w, g.in.c, g.out.h, g.out.w, l.kernel_h, l.kernel_w, l.stride_h, l.stride_w,
             pool ? 1 : l.dilation_h, pool ? 1 : l.dilation_w, 0, 0};
    w.pad_top = pad_before(w.in_h, w.out_h, w.kh, w.sh, w.dh);
    w.pad_left = pad_before(w.in_w, w.out_w, w.kw, w.sw, w.dw);
    return w;
  }
  // Input row of output row oy at tap ky; false when it falls in the padding.
  bool row(std::size_t oy, std::size_t ky, std::size_t& iy) const {
    const std::size_t at = oy * sh + ky * dh;
    if (at < pad_top || at - pad_top >= in_h) return false;
    iy = at - pad_top;
    return true;
  }
  bool col(std::size_t ox, std::size_t kx, std::size_t& ix) const {
    const std::size_t at = ox * sw + kx * dw;
    if (at < pad_left || at - pad_left >= in_w) return false;
    ix = at - pad_left;
    return true;
  }
};

}  // namespace edgefl
