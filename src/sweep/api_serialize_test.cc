#include "sweep/api_serialize.h"

#include <gtest/gtest.h>

namespace cg {
namespace {

TEST(ApiSerialize, GroupsComeFromTheAgentsList) {
  EXPECT_EQ(ApiSerializeGroups(),
            (std::vector<std::string>{"none", "all", "cuvid", "nvenc", "ctx", "egl-stream", "gst-state"}));
}

TEST(ApiSerialize, AcceptsGroupsGlobsAndTrackedNames) {
  std::string err;
  for (const char* ok : {"none", "all", "cuvid", "cuvid+nvenc", "ctx,egl-stream", "gst-state", "cuvidCreate*",
                         "*Decoder", "nvEnc?ncodePicture", "cuMemGetInfo_v2", "gst_object_unref",
                         "NvEncodeAPICreateInstance"}) {
    EXPECT_TRUE(CheckApiSerialize(ok, "--serialize", &err)) << ok << ": " << err;
  }
}

TEST(ApiSerialize, RefusesWhatMatchesNoTrackedCall) {
  std::string err;
  EXPECT_FALSE(CheckApiSerialize("cuvd", "--serialize", &err));
  EXPECT_EQ(err, "--serialize: unknown group 'cuvd' in 'cuvd', did you mean 'cuvid'? (an --exec program's "
                 "serialize names API groups: use none, all, cuvid, nvenc, ctx, egl-stream, gst-state, or a glob "
                 "matching a tracked call such as 'cuvidCreate*'; join several with ',' or '+')");
  for (const char* bad : {"cuvid+gst", "open", "foo*", "pthread_mutex_lock", "cuGetProcAddress", "cuvid,", "x?"}) {
    EXPECT_FALSE(CheckApiSerialize(bad, "--grid serialize", &err)) << bad;
    EXPECT_EQ(err.rfind("--grid serialize: ", 0), 0u) << err;
  }
}

}  // namespace
}  // namespace cg
