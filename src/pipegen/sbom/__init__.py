"""Software bills of materials: what the build job records of what it ships (`environment`)."""
