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

  // The window walks below visit in-bounds taps only (padding reads as zero or takes no part),
  // always in row-major order, so every caller sums in the same order. Pixel indices are
  // row-major (p = oy * out_w + ox, q = iy * in_w + ix), taps t = ky * kw + kx. Templates so
  // the visitor inlines into the hot loops.

  // f(q, t) for each in-bounds tap of output pixel (oy, ox); returns how many there were.
  template <typename F>
  std::size_t for_each_tap(std::size_t oy, std::size_t ox, F&& f) const {
    std::size_t taps = 0;
    for (std::size_t ky = 0; ky < kh; ++ky) {
      std::size_t iy;
      if (!row(oy, ky, iy)) continue;
      for (std::size_t kx = 0; kx < kw; ++kx) {
        std::size_t ix;
        if (!col(ox, kx, ix)) continue;
        f(iy * in_w + ix, ky * kw + kx);
        ++taps;
      }
    }
    return taps;
  }
  // f(p, q, t) for each output pixel p and each in-bounds tap t of its window.
  template <typename F>
  void for_each_window_tap(F&& f) const {
    for (std::size_t oy = 0; oy < out_h; ++oy) {
      for (std::size_t ox = 0; ox < out_w; ++ox) {
        const std::size_t p = oy * out_w + ox;
        for_each_tap(oy, ox, [&](std::size_t q, std::size_t t) { f(p, q, t); });
      }
    }
  }
  // f(p, q) for each output pixel p whose tap (ky, kx) is in bounds, reading input pixel q.
  template <typename F>
  void for_each_pixel_at_tap(std::size_t ky, std::size_t kx, F&& f) const {
    for (std::size_t oy = 0; oy < out_h; ++oy) {
      std::size_t iy;
      if (!row(oy, ky, iy)) continue;
      for (std::size_t ox = 0; ox < out_w; ++ox) {
        std::size_t ix;
        if (!col(ox, kx, ix)) continue;
        f(oy * out_w + ox, iy * in_w + ix);
      }
    }
  }
};

}  // namespace edgefl
