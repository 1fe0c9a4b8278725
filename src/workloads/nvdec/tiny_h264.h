// The H.264 stream the nvdec workload decodes: 176x144, 8 frames (see tiny_h264.cc for how it was made).
#pragma once

#include <cstddef>

namespace cg {

constexpr int kTinyH264Width = 176;
constexpr int kTinyH264Height = 144;
constexpr int kTinyH264Frames = 8;
extern const unsigned char kTinyH264[];
extern const size_t kTinyH264Size;

}  // namespace cg
