{
  "targets": [{
    "target_name": "xauto_perception",
    "sources": ["src/addon.cc", "src/addon_decode.cc", "src/camera.cc", "src/decode.cc", "src/lidar.cc"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
    "cflags_cc": ["-O3", "-std=c++17"]
  }]
}
