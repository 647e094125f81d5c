// Sample inputs from a text file: a JSON array of numbers (nested arrays are
// flattened) or numbers separated by whitespace or commas. Used by `stc run`,
// `stc simulate --input` and the headless runner `stc-run`.
#pragma once

#include <string>
#include <vector>

namespace stc::util {

// Appends the numbers of `path` to `values`; false with a message naming the file otherwise.
bool readNumberFile(const std::string& path, std::vector<float>& values, std::string& error);

} // namespace stc::util
