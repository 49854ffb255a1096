"""Quality gates. One module per gate, all returning `pipegen.gates.result.GateResult`."""
