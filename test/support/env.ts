// Loaded by mocha before every test file (.mocharc.json): tests build for
// real, so the user's cache of built images and root disks is off unless a
// test turns it on, with a directory of its own.
process.env.VM_IMAGES_CACHE_MAX = "0";
