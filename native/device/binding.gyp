{
  "targets": [{
    "target_name": "xauto_device",
    "sources": [
      "src/backend_host.cc",
      "src/clock.cc",
      "src/memory.cc",
      "src/kernels.cc",
      "src/kernels_perception.cc",
      "src/validate.cc",
      "src/scheduler.cc",
      "src/addon.cc"
    ],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
    "cflags_cc": ["-O2", "-std=c++17", "-pthread"],
    "ldflags": ["-pthread"]
  }]
}
