"""Run by check_consumer.cmake against the installed package: it imports and computes."""

import ember
import ember.jit

x = ember.ones(2, requires_grad=True)
(x * 3).sum().backward()
print(ember.__file__, x.grad.tolist(), ember.jit.compile(lambda a: a * 2)(x.detach()).tolist())
