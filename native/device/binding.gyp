{
  "variables": {
    "xdev_cuda%": "0",
    "cuda_home%": "/usr/local/cuda"
  },
  "targets": [{
    "target_name": "xauto_device",
    "sources": [
      "src/backend_host.cc",
      "src/backend_select.cc",
      "src/clock.cc",
      "src/memory.cc",
      "src/kernels.cc",
      "src/kernels_perception.cc",
      "src/kernels_apps.cc",
      "src/validate.cc",
      "src/scheduler.cc",
      "src/addon.cc",
      "src/checkpoint.cc",
      "src/addon_checkpoint.cc"
    ],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
    "cflags_cc": ["-O2", "-std=c++17", "-pthread"],
    "ldflags": ["-pthread"],
    "libraries": ["-lz"],
    "conditions": [
      ["xdev_cuda==1", {
        "defines": ["XDEV_CUDA=1"],
        "libraries": [
          "<(module_root_dir)/build/cuda/libxdev_cuda.a",
          "-L<(cuda_home)/lib64", "-L<(cuda_home)/lib", "-lcudart_static", "-ldl", "-lrt"
        ]
      }]
    ]
  }]
}
