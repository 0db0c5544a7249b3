package dev.aegis;

public final class Main {
    public static void main(String[] args) {
        System.out.println("aegis");
    }
}
