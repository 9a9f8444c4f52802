{
  "targets": [{
    "target_name": "xauto_dds",
    "sources": ["binding.cc", "entities.cc", "listeners.cc", "reader.cc", "writer.cc", "discovery.cc", "raw_cdr.cc", "busy_poll.cc"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
    "cflags_cc": ["-O2", "-std=c++17"],
    "libraries": ["-lddsc"]
  }]
}
