// A tiny H.264 elementary stream (Annex B byte-stream, constrained baseline, 176x144, 8 frames, one IDR),
// so the nvdec workload needs no file. Generated with the installed GStreamer:
//   gst-launch-1.0 videotestsrc num-buffers=8 pattern=ball ! video/x-raw,width=176,height=144,framerate=30/1 !
//     x264enc key-int-max=8 bframes=0 tune=zerolatency speed-preset=ultrafast !
//     video/x-h264,profile=constrained-baseline ! h264parse ! video/x-h264,stream-format=byte-stream,alignment=au !
//     filesink location=tiny.h264
#include "workloads/nvdec/tiny_h264.h"

namespace cg {

const unsigned char kTinyH264[] = {
#include "workloads/nvdec/tiny_h264.inc"
};
const size_t kTinyH264Size = sizeof(kTinyH264);

}  // namespace cg
