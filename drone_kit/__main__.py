from drone_kit.cli import main

main()
