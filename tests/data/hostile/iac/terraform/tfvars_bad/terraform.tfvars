ci = = true
