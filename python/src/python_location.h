// python_location.h - the user's Python file:line, for error messages
// (Note [Errors at the user's Python line]) and traced ops (Note [Lines of
// other languages]). Header-only: both extension modules use it.
#pragma once

#include <Python.h>
#include <frameobject.h>

#include <string>

namespace ember::python {

// Whether `file` is one of the ember package's own Python files (a layer's
// forward, nn.functional): the user's line is further out.
inline bool in_ember_package(const std::string& file) {
  for (const char* dir : {"/ember/", "/ember/nn/"}) {
    const std::string d = dir;
    const size_t at = file.rfind(d);
    if (at != std::string::npos && file.find('/', at + d.size()) == std::string::npos) return true;
  }
  return false;
}

// "train.py:42": the innermost Python frame outside the ember package, or
// "" (no Python running on this thread, or this thread lacks the GIL).
inline std::string python_location() {
  if (!PyGILState_Check()) return "";
  PyFrameObject* frame = PyEval_GetFrame();  // borrowed
  if (!frame) return "";
  Py_INCREF(frame);
  std::string where;
  while (frame) {
    PyCodeObject* code = PyFrame_GetCode(frame);  // new reference
    const char* name = PyUnicode_AsUTF8(code->co_filename);
    std::string file = name ? name : "";
    Py_DECREF(code);
    if (!in_ember_package(file)) {
      const size_t slash = file.find_last_of('/');
      where = (slash == std::string::npos ? file : file.substr(slash + 1)) + ":" +
              std::to_string(PyFrame_GetLineNumber(frame));
      Py_DECREF(frame);
      break;
    }
    PyFrameObject* back = PyFrame_GetBack(frame);  // new reference or null
    Py_DECREF(frame);
    frame = back;
  }
  return where;
}

}  // namespace ember::python
