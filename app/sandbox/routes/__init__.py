"""HTTP routers of the sandbox: thin handlers over the `SandboxState` stores."""
