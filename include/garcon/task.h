// Tasks: the units of work an activity runs. A task is a plain function whose
// first parameter is the running activity and whose other parameters are
// filled from the context (Task(fn).Fill("key", ...)), or a function of the
// whole context. A task returns a JSON object (or nothing) that is merged
// into the context.
#pragma once

#if __cplusplus < 202002L
#error "Garcon needs C++20: compile with -std=c++20 (or link garcon::garcon in CMake)"
#endif

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "garcon/activity_execution.h"

namespace garcon {

using Json = nlohmann::json;
// The workflow's context: a JSON object of dotted keys ("generator.country_id").
using Context = nlohmann::json;

// Thrown by a task whose parameters cannot be filled from the context (a
// missing key for a non-optional parameter, a value of the wrong type).
class TaskError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown where a flow is declared, by a setter given a value it refuses
// (Retry(-1), MaxConcurrent(0), a child flow of another domain, MaxWorkers
// on a Sync runner...). A flow program that does not catch it before
// garcon::Main prints it and exits 1 (docs/install.md).
class DeclarationError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// What a task parameter is bound to: a context key, or a constant given in
// code. Constants are never sent over the wire (use them for secrets).
class Param {
 public:
  Param(const char* key) : key_(key) {}         // NOLINT: implicit by design
  Param(std::string key) : key_(std::move(key)) {}  // NOLINT

  static Param Static(Json value) {
    Param p{std::string()};
    p.static_ = true;
    p.value_ = std::move(value);
    return p;
  }

  bool is_static() const { return static_; }
  const std::string& key() const { return key_; }
  const Json& value() const { return value_; }

 private:
  std::string key_;
  bool static_ = false;
  Json value_;
};

// A constant parameter value, never sent over the wire.
inline Param Static(Json value) { return Param::Static(std::move(value)); }

namespace detail {

template <typename T>
struct CallableTraits : CallableTraits<decltype(&T::operator())> {};
template <typename R, typename... A>
struct CallableTraits<R (*)(A...)> {
  using Return = R;
  using Args = std::tuple<A...>;
};
template <typename R, typename... A>
struct CallableTraits<R(A...)> : CallableTraits<R (*)(A...)> {};
template <typename C, typename R, typename... A>
struct CallableTraits<R (C::*)(A...) const> : CallableTraits<R (*)(A...)> {};
template <typename C, typename R, typename... A>
struct CallableTraits<R (C::*)(A...)> : CallableTraits<R (*)(A...)> {};
template <typename R, typename... A>
struct CallableTraits<R (*)(A...) noexcept> : CallableTraits<R (*)(A...)> {};
template <typename R, typename... A>
struct CallableTraits<R(A...) noexcept> : CallableTraits<R (*)(A...)> {};
template <typename C, typename R, typename... A>
struct CallableTraits<R (C::*)(A...) const noexcept> : CallableTraits<R (*)(A...)> {};
template <typename C, typename R, typename... A>
struct CallableTraits<R (C::*)(A...) noexcept> : CallableTraits<R (*)(A...)> {};

template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};

// Converts a context value into a parameter of type T. A missing (null)
// value is allowed only for Json and std::optional parameters.
template <typename T>
T FromContextValue(const Json& value, const std::string& where) {
  using D = std::decay_t<T>;
  if constexpr (std::is_same_v<D, Json>) {
    return value;
  } else if constexpr (IsOptional<D>::value) {
    if (value.is_null()) return std::nullopt;
    return FromContextValue<typename D::value_type>(value, where);
  } else {
    if (value.is_null()) throw TaskError(where + " is missing from the context");
    try {
      return value.get<D>();
    } catch (const Json::exception& e) {
      throw TaskError(where + " has the wrong type: " + e.what());
    }
  }
}

// True for the argument list (ActivityExecution&, const Context&).
template <typename Args>
struct ReadsWholeContext : std::false_type {};
template <typename A>
struct ReadsWholeContext<std::tuple<A, const Context&>> : std::true_type {};

template <typename R>
Json ResultToJson(R&& r) {
  return Json(std::forward<R>(r));
}

// A callable whose parameter types can be read: a function, a function
// pointer, or an object with one call operator that is not a template (not a
// generic lambda, not overloaded).
template <typename F>
concept ReadableSignature =
    std::is_function_v<std::remove_pointer_t<F>> || requires { &F::operator(); };

// The first parameter's type, void when there is none.
template <typename Args>
struct FirstArg {
  using Type = void;
};
template <typename A, typename... More>
struct FirstArg<std::tuple<A, More...>> {
  using Type = A;
};

template <typename T>
inline constexpr bool kIsMutableReference =
    std::is_lvalue_reference_v<T> && !std::is_const_v<std::remove_reference_t<T>>;

// True for (ActivityExecution&, Context&): a context taken by non-const
// reference.
template <typename Args>
struct MutatesWholeContext : std::false_type {};
template <typename A>
struct MutatesWholeContext<std::tuple<A, Context&>> : std::true_type {};

// True when a parameter after the first is a non-const lvalue reference.
template <typename Args, std::size_t... I>
constexpr bool HasMutableReference(std::index_sequence<I...>) {
  return (kIsMutableReference<std::tuple_element_t<I + 1, Args>> || ...);
}

// What is wrong with a task's signature, as a compile-time code:
// 0 nothing, 1 unreadable (generic lambda), 2 first parameter, 3 non-const
// Context&, 4 another non-const reference.
template <typename F>
constexpr int TaskSignatureError() {
  if constexpr (!ReadableSignature<F>) {
    return 1;
  } else {
    using Args = typename CallableTraits<F>::Args;
    if constexpr (!std::is_same_v<typename FirstArg<Args>::Type, ActivityExecution&>) {
      return 2;
    } else if constexpr (MutatesWholeContext<Args>::value) {
      return 3;
    } else if constexpr (HasMutableReference<Args>(
                             std::make_index_sequence<std::tuple_size_v<Args> - 1>())) {
      return 4;
    } else {
      return 0;
    }
  }
}

// The number of parameters Fill binds: those after ActivityExecution&, or
// -1 for a task of the whole context. F's signature must be valid.
template <typename F>
constexpr int TaskArity() {
  using Args = typename CallableTraits<F>::Args;
  if constexpr (ReadsWholeContext<Args>::value) {
    return -1;
  } else {
    return static_cast<int>(std::tuple_size_v<Args>) - 1;
  }
}

}  // namespace detail

class Task {
 public:
  // The callable's signature decides how it is called:
  // - (ActivityExecution&, const Context&): it receives the whole context;
  //   the task does not declare what it reads, so the whole context is sent
  //   to its activity;
  // - (ActivityExecution&, A1, A2, ...): each parameter is filled from the
  //   context key (or constant) given by Fill, in order. The keys are the
  //   task's requirements: only they are sent to its activity.
  // It returns Context/Json (an object or null) or void.
  //
  // Mistakes in the signature are compile errors that say what to write: a
  // generic lambda (its `auto` parameters cannot be read), a first parameter
  // other than ActivityExecution&, a context or a parameter taken by
  // non-const reference (a task returns what it adds to the context).
  template <typename F,
            typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, Task>>>
  Task(F fn) {  // NOLINT: implicit so runners accept plain callables
    using D = std::decay_t<F>;
    constexpr int kError = detail::TaskSignatureError<D>();
    static_assert(kError != 1,
                  "garcon::Task: a generic lambda (auto parameters) or an overloaded call "
                  "operator cannot be a task, because Garcon reads the parameter types to fill "
                  "them from the context. Spell the types: [](garcon::ActivityExecution& "
                  "activity, const garcon::Context& context) { ... } or "
                  "[](garcon::ActivityExecution& activity, int id) { ... } with .Fill(\"key\")");
    static_assert(kError != 2,
                  "garcon::Task: a task's first parameter is garcon::ActivityExecution& (the "
                  "running activity: heartbeats, logger), e.g. [](garcon::ActivityExecution& "
                  "activity, const garcon::Context& context) { ... }");
    static_assert(kError != 3,
                  "garcon::Task: a task takes the context as const garcon::Context&, not "
                  "garcon::Context&: it does not change the context but returns what it adds, "
                  "e.g. [](garcon::ActivityExecution&, const garcon::Context& context) { return "
                  "garcon::Context{{\"key\", value}}; }");
    static_assert(kError != 4,
                  "garcon::Task: a parameter filled from the context is taken by value or by "
                  "const reference (int id, const std::string& name), not by non-const "
                  "reference; return what the task adds to the context instead");
    if constexpr (kError == 0) Bind(std::move(fn));
  }

  // Task(fn, keys...) is Task(fn).Fill(keys...) with the number of keys
  // checked at compile time: one key (or garcon::Static value) per parameter
  // after ActivityExecution&.
  template <typename F, typename P, typename... More,
            typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, Task>>>
  Task(F fn, P&& first, More&&... more) : Task(std::move(fn)) {
    using D = std::decay_t<F>;
    if constexpr (detail::TaskSignatureError<D>() == 0) {
      constexpr int kArity = detail::TaskArity<D>();
      static_assert(kArity != -1,
                    "garcon::Task(fn, keys...): fn reads the whole context (const "
                    "garcon::Context&), so it has no parameter to fill; declare the keys it "
                    "reads with .Reads({...}) instead");
      static_assert(kArity == -1 || kArity == static_cast<int>(1 + sizeof...(More)),
                    "garcon::Task(fn, keys...): give exactly one key (or garcon::Static(value)) "
                    "per parameter of fn after garcon::ActivityExecution&");
      if constexpr (kArity == static_cast<int>(1 + sizeof...(More))) {
        FillParams({Param(std::forward<P>(first)), Param(std::forward<More>(more))...});
      }
    }
  }

  // Binds the parameters after ActivityExecution&, in order, to context keys
  // or Static(...) constants. A count that differs from the function's
  // parameter count, or a Fill on a task of the whole context, is recorded
  // as the task's misuse(): Flow::Validate reports it before the flow runs
  // (and the task, if run, fails with it). Task(fn, keys...) checks the
  // count at compile time.
  template <typename... P>
  Task& Fill(P&&... params) {
    return FillParams({Param(std::forward<P>(params))...});
  }
  Task& FillParams(std::vector<Param> params);

  // Prefixes every key of the task's result with `ns.`.
  Task& Namespace(std::string ns);

  // Declares the task's timeout (seconds); its heartbeat timeout defaults to
  // the timeout.
  Task& Timeout(int seconds, std::optional<int> heartbeat = std::nullopt);

  // Declares the context keys a whole-context task reads, so its activity is
  // sent only those.
  Task& Reads(std::vector<std::string> keys);

  // Why the task cannot run as declared (a Fill that does not match its
  // parameters); empty when it can.
  const std::string& misuse() const { return misuse_; }

  std::optional<int> timeout() const { return timeout_; }
  std::optional<int> heartbeat() const { return heartbeat_; }
  // The context keys the task reads; nullopt when it reads the whole context
  // without declaring keys.
  std::optional<std::vector<std::string>> Requirements() const;

  // Runs the task: fills its parameters from `context`, calls it and returns
  // its result (a JSON object, namespaced). Throws what the task throws, or
  // TaskError.
  Context operator()(ActivityExecution& activity, const Context& context) const;

 private:
  using Invoke =
      std::function<Json(ActivityExecution&, const Context&, const std::vector<Json>&)>;

  template <typename F>
  void Bind(F fn) {
    using Args = typename detail::CallableTraits<F>::Args;
    constexpr std::size_t kArity = std::tuple_size_v<Args> - 1;
    if constexpr (detail::ReadsWholeContext<Args>::value) {
      arity_ = -1;
      invoke_ = [fn = std::move(fn)](ActivityExecution& a, const Context& c,
                                     const std::vector<Json>&) -> Json {
        return Call(fn, a, c);
      };
    } else {
      arity_ = static_cast<int>(kArity);
      invoke_ = [fn = std::move(fn)](ActivityExecution& a, const Context&,
                                     const std::vector<Json>& args) -> Json {
        return Apply<Args>(fn, a, args, std::make_index_sequence<kArity>());
      };
    }
  }

  template <typename F>
  static Json Call(const F& fn, ActivityExecution& a, const Context& c) {
    if constexpr (std::is_void_v<std::invoke_result_t<const F&, ActivityExecution&,
                                                      const Context&>>) {
      fn(a, c);
      return Json();
    } else {
      return detail::ResultToJson(fn(a, c));
    }
  }

  template <typename Args, typename F, std::size_t... I>
  static Json Apply(const F& fn, ActivityExecution& a, const std::vector<Json>& args,
                    std::index_sequence<I...>) {
    // By value: for a `const std::string&` parameter, converting to the
    // reference type would return a reference to a temporary.
    auto values = std::make_tuple(
        detail::FromContextValue<std::decay_t<std::tuple_element_t<I + 1, Args>>>(
            args[I], "parameter " + std::to_string(I + 1))...);
    (void)values;
    if constexpr (std::is_void_v<decltype(fn(a, std::get<I>(std::move(values))...))>) {
      fn(a, std::get<I>(std::move(values))...);
      return Json();
    } else {
      return detail::ResultToJson(fn(a, std::get<I>(std::move(values))...));
    }
  }

  Invoke invoke_;
  int arity_ = -1;  // -1: whole-context task
  std::vector<Param> params_;
  bool filled_ = false;
  std::string misuse_;
  std::optional<std::vector<std::string>> reads_;
  std::string namespace_;
  std::optional<int> timeout_;
  std::optional<int> heartbeat_;
};

// A function of the context that yields tasks, flattened into the runner's
// tasks when the activity runs (e.g. add a credit card only when the context
// has one).
class TaskList {
 public:
  using Fn = std::function<std::vector<Task>(const Context&)>;
  explicit TaskList(Fn fn) : fn_(std::move(fn)) {}
  std::vector<Task> operator()(const Context& context) const { return fn_(context); }

 private:
  Fn fn_;
};

// Timeouts used for a task that declares none (the original's 600 s).
inline constexpr int kDefaultTaskTimeout = 600;
inline constexpr int kDefaultTaskHeartbeat = 600;

}  // namespace garcon
