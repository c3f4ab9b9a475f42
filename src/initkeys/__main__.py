from initkeys.cli import main

main()
