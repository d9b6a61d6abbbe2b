from dupcert.cli import main

main()
