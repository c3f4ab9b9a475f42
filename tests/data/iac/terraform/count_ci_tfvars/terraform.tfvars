ci = true
